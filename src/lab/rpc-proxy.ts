// The lab's RPC proxy ([MS-RPCH] §3.2.3): pairs an IN and an OUT channel by the virtual-connection
// cookie, answers CONN/A1 with A3 and, once CONN/B1 arrived, CONN/C2; then serves DCE/RPC.
import { answerPdu, newDceState, type DceState } from './dcerpc.js';
import type { LabRequest, LabResponse } from './lab-http.js';
import { PTYPE, PduReader, connA3, connC2, echoPdu, paddingPdu, readRts } from './rts.js';

interface VirtualConnection {
  out: LabResponse | undefined;
  inSeen: boolean;
  c2Sent: boolean;
  dce: DceState;
  /** PDUs answered before the OUT channel was ready. */
  queue: Buffer[];
}

const vcs = new Map<string, VirtualConnection>();

export interface RpcStats {
  inBytes: number;
  outStreamBytes: number;
}

export const rpcStats: RpcStats = { inBytes: 0, outStreamBytes: 0 };

function vcOf(cookie: string): VirtualConnection {
  let vc = vcs.get(cookie);
  if (!vc) {
    vc = { out: undefined, inSeen: false, c2Sent: false, dce: newDceState(), queue: [] };
    vcs.set(cookie, vc);
    // Channels that never pair are forgotten after a while.
    setTimeout(() => {
      if (!vc!.c2Sent) vcs.delete(cookie);
    }, 60_000).unref();
  }
  return vc;
}

function sendOut(vc: VirtualConnection, pdus: Buffer[]): void {
  if (!vc.out || !vc.c2Sent) {
    vc.queue.push(...pdus);
    return;
  }
  for (const p of pdus) vc.out.write(p);
}

function maybeC2(vc: VirtualConnection): void {
  if (vc.out && vc.inSeen && !vc.c2Sent) {
    vc.out.write(connC2());
    vc.c2Sent = true;
    sendOut(vc, vc.queue.splice(0));
  }
}

function rpcError(res: LabResponse, code: string): void {
  res.writeHead(503, `RPC Error: ${code}`, [{ name: 'Content-Length', value: '0' }], '1.0');
  res.end();
}

/** Reads PDUs from a channel body and hands each to `onPdu`. */
function readPdus(req: LabRequest, onPdu: (pdu: Buffer) => void, onBad: (why: string) => void): void {
  const reader = new PduReader(onPdu);
  req.consume((b) => {
    rpcStats.inBytes += b.length;
    const err = reader.push(b);
    if (err) onBad(err);
  });
}

export function handleRpc(req: LabRequest, res: LabResponse): void {
  const m = /^([^:]+):(\d+)$/.exec(decodeURIComponent(req.query));
  const length = req.contentLength ?? 0;
  if (length <= 0x10) {
    // Echo request: the client probing for a proxy in the path.
    void req.body(64).then(() => {
      const e = echoPdu();
      res.send(200, 'Success', e, 'application/rpc');
    });
    return;
  }
  if (!m) return rpcError(res, '6ba');
  res.writeContinue();
  if (req.method === 'RPC_OUT_DATA') {
    const stream = Number(/LabStream=(\d+)/i.exec(req.header('pragma') ?? '')?.[1] ?? '0');
    readPdus(
      req,
      (pdu) => {
        const rts = readRts(pdu);
        if (!rts?.vcCookie || res.headSent) return;
        const vc = vcOf(rts.vcCookie);
        vc.out = res;
        res.writeHead(200, 'Success', [
          { name: 'Content-Type', value: 'application/rpc' },
          { name: 'Content-Length', value: '1073741824' },
        ]);
        res.write(connA3());
        if (stream > 0) streamPadding(res, stream);
        maybeC2(vc);
      },
      () => req.conn.socket.destroy(),
    );
    req.conn.socket.once('close', () => vcs.forEach((v, k) => v.out === res && vcs.delete(k)));
    return;
  }
  let vc: VirtualConnection | undefined;
  readPdus(
    req,
    (pdu) => {
      if (pdu[2] === PTYPE.rts) {
        const rts = readRts(pdu);
        if (!vc && rts?.vcCookie) {
          vc = vcOf(rts.vcCookie);
          vc.inSeen = true;
          maybeC2(vc);
        }
        return; // pings, keep-alives, flow-control acks and padding need no answer here
      }
      if (vc) sendOut(vc, answerPdu(pdu, vc.dce));
    },
    () => req.conn.socket.destroy(),
  );
}

/** Lab diagnostics: an OUT channel that streams `bytes` of RTS padding PDUs (for throughput tests). */
function streamPadding(res: LabResponse, bytes: number): void {
  const pdu = paddingPdu(65520);
  const socket = res.writable;
  let left = bytes;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, pdu.length);
      left -= n;
      rpcStats.outStreamBytes += n;
      if (!socket.write(n === pdu.length ? pdu : pdu.subarray(0, n))) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

