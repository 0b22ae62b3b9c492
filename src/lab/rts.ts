// RTS PDUs of RPC over HTTP v2 ([MS-RPCH] §2.2.3.5, §2.2.4): only what the lab's RPC proxy sends or
// has to recognise. Layouts checked against the bytes impacket produces (PEERS.md §1).

export const PTYPE = { request: 0, response: 2, fault: 3, bind: 11, bindAck: 12, bindNak: 13, alterContext: 14, alterContextResp: 15, auth3: 16, rts: 20 } as const;

export const RtsFlags = { NONE: 0, PING: 1, OTHER_CMD: 2, RECYCLE_CHANNEL: 4, IN_CHANNEL: 8, OUT_CHANNEL: 0x10, EOF: 0x20, ECHO: 0x40 } as const;

export const RtsCmd = { ReceiveWindowSize: 0, FlowControlAck: 1, ConnectionTimeout: 2, Cookie: 3, ChannelLifetime: 4, ClientKeepalive: 5, Version: 6, Empty: 7, Padding: 8 } as const;

/** Common 16-byte header of a connection-oriented DCE/RPC PDU. */
export function pduHeader(ptype: number, flags: number, fragLength: number, authLength: number, callId: number): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 5;
  b[1] = 0;
  b[2] = ptype;
  b[3] = flags;
  b.writeUInt32LE(0x10, 4);
  b.writeUInt16LE(fragLength, 8);
  b.writeUInt16LE(authLength, 10);
  b.writeUInt32LE(callId, 12);
  return b;
}

export function rtsPdu(flags: number, commands: ReadonlyArray<[number, Buffer]>): Buffer {
  const body = Buffer.concat(
    commands.map(([type, value]) => {
      const t = Buffer.alloc(4);
      t.writeUInt32LE(type, 0);
      return Buffer.concat([t, value]);
    }),
  );
  const fixed = Buffer.alloc(4);
  fixed.writeUInt16LE(flags, 0);
  fixed.writeUInt16LE(commands.length, 2);
  return Buffer.concat([pduHeader(PTYPE.rts, 0x03, 20 + body.length, 0, 0), fixed, body]);
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}

export const CONNECTION_TIMEOUT_MS = 120_000;

export function connA3(): Buffer {
  return rtsPdu(RtsFlags.NONE, [[RtsCmd.ConnectionTimeout, u32(CONNECTION_TIMEOUT_MS)]]);
}

export function connC2(receiveWindow = 65536): Buffer {
  return rtsPdu(RtsFlags.NONE, [
    [RtsCmd.Version, u32(1)],
    [RtsCmd.ReceiveWindowSize, u32(receiveWindow)],
    [RtsCmd.ConnectionTimeout, u32(CONNECTION_TIMEOUT_MS)],
  ]);
}

export function echoPdu(): Buffer {
  return rtsPdu(RtsFlags.ECHO, []);
}

/** An RTS PDU carrying only Padding, used by the lab's stream diagnostics. */
export function paddingPdu(total: number): Buffer {
  const pad = total - 20 - 8;
  const count = Buffer.alloc(4);
  count.writeUInt32LE(pad, 0);
  return rtsPdu(RtsFlags.OTHER_CMD, [[RtsCmd.Padding, Buffer.concat([count, Buffer.alloc(pad)])]]);
}

export interface RtsInfo {
  readonly flags: number;
  readonly commands: number[];
  /** The virtual-connection cookie of CONN/A1 or CONN/B1 (second command, a Cookie). */
  readonly vcCookie: string | undefined;
}

/** Reads an RTS PDU's flags, command types and (for A1/B1) the virtual-connection cookie. */
export function readRts(pdu: Buffer): RtsInfo | undefined {
  if (pdu.length < 20 || pdu[2] !== PTYPE.rts) return undefined;
  const flags = pdu.readUInt16LE(16);
  const n = pdu.readUInt16LE(18);
  const commands: number[] = [];
  let i = 20;
  let vcCookie: string | undefined;
  for (let k = 0; k < n && i + 4 <= pdu.length; k++) {
    const type = pdu.readUInt32LE(i);
    commands.push(type);
    i += 4;
    const size: Record<number, number> = { 0: 4, 1: 24, 2: 4, 3: 16, 4: 4, 5: 4, 6: 4, 7: 0, 9: 0, 10: 0, 12: 16, 13: 4, 14: 4 };
    if (type === RtsCmd.Cookie && k === 1 && i + 16 <= pdu.length) vcCookie = pdu.subarray(i, i + 16).toString('hex');
    if (type === RtsCmd.Padding) i += 4 + (i + 4 <= pdu.length ? pdu.readUInt32LE(i) : 0);
    else if (type === 0xb) i += 4 + (pdu.readUInt32LE(i) === 0 ? 4 : 16) + 12;
    else i += size[type] ?? 0;
  }
  return { flags, commands, vcCookie };
}

/**
 * Incremental PDU reader for a channel body. Small PDUs are delivered whole; large ones (only
 * padding and bulk data in the lab) are skipped without being assembled, so a 1 GiB channel costs
 * no memory.
 */
export class PduReader {
  private head = Buffer.alloc(0);
  private body: Buffer[] = [];
  private remaining = 0;
  private keep = false;
  constructor(
    private readonly onPdu: (pdu: Buffer) => void,
    private readonly maxKept = 8192,
  ) {}

  /** Returns an error string when the stream is not DCE/RPC. */
  push(buf: Buffer): string | undefined {
    let i = 0;
    while (i < buf.length) {
      if (this.remaining === 0) {
        const need = 16 - this.head.length;
        this.head = Buffer.concat([this.head, buf.subarray(i, i + need)]);
        i += Math.min(need, buf.length - i);
        if (this.head.length < 16) return undefined;
        if (this.head[0] !== 5 || (this.head[1] !== 0 && this.head[1] !== 1)) return 'not a DCE/RPC PDU';
        const len = this.head.readUInt16LE(8);
        if (len < 16) return 'frag_length below 16';
        this.remaining = len - 16;
        this.keep = len <= this.maxKept;
        this.body = [this.head];
        if (this.remaining === 0) this.finish();
        continue;
      }
      const n = Math.min(this.remaining, buf.length - i);
      if (this.keep) this.body.push(buf.subarray(i, i + n));
      i += n;
      this.remaining -= n;
      if (this.remaining === 0) this.finish();
    }
    return undefined;
  }

  private finish(): void {
    if (this.keep) this.onPdu(Buffer.concat(this.body));
    this.head = Buffer.alloc(0);
    this.body = [];
  }
}
