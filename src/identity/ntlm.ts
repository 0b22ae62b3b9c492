// NTLM message parser ([MS-NLMP] §2.2.1). Hand-written because the npm NTLM packages are client
// libraries; the gateway needs a bounds-checked reader over untrusted bytes that never throws.
// It reads names only: responses and keys are never copied out of the message.

export const NTLM_SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

export const NtlmFlags = {
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  SIGN: 0x00000010,
  SEAL: 0x00000020,
  NTLM: 0x00000200,
  ANONYMOUS: 0x00000800,
  OEM_DOMAIN_SUPPLIED: 0x00001000,
  OEM_WORKSTATION_SUPPLIED: 0x00002000,
  ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  TARGET_TYPE_SERVER: 0x00020000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  N128: 0x20000000,
  KEY_EXCH: 0x40000000,
  N56: 0x80000000,
} as const;

export const AvId = {
  EOL: 0,
  NbComputerName: 1,
  NbDomainName: 2,
  DnsComputerName: 3,
  DnsDomainName: 4,
  DnsTreeName: 5,
  Flags: 6,
  Timestamp: 7,
  SingleHost: 8,
  TargetName: 9,
  ChannelBindings: 10,
} as const;

export interface NtlmNegotiate {
  readonly type: 1;
  readonly flags: number;
}

export interface NtlmChallenge {
  readonly type: 2;
  readonly flags: number;
  readonly serverChallenge: Buffer;
  readonly targetInfo: Buffer;
}

export interface NtlmAuthenticate {
  readonly type: 3;
  readonly flags: number;
  readonly domain: string;
  readonly user: string;
  readonly workstation: string;
  /** Anonymous: the ANONYMOUS flag, or an empty user with an empty NT response. */
  readonly anonymous: boolean;
  /** 'v1' for a 24-byte NT response, 'v2' for longer, 'none' when empty. */
  readonly ntlmVersion: 'v1' | 'v2' | 'none';
  /** True when the NTLMv2 blob carries a non-zero MsvAvChannelBindings value. */
  readonly channelBindings: boolean;
  /** Views into the message, for the lab's verifier only; never logged or stored. */
  readonly ntResponse: Buffer;
}

export type NtlmMessage = NtlmNegotiate | NtlmChallenge | NtlmAuthenticate;
export type NtlmResult = { readonly ok: true; readonly message: NtlmMessage } | { readonly ok: false; readonly error: string };

function fail(error: string): NtlmResult {
  return { ok: false, error };
}

/** Reads a security buffer (Len, MaxLen, Offset) and returns the bytes, or an error string. */
function field(buf: Buffer, at: number, name: string): Buffer | string {
  if (at + 8 > buf.length) return `${name} field header truncated`;
  const len = buf.readUInt16LE(at);
  const off = buf.readUInt32LE(at + 4);
  if (len === 0) return Buffer.alloc(0);
  if (off > buf.length || off + len > buf.length) return `${name} points outside the message`;
  return buf.subarray(off, off + len);
}

function decodeString(b: Buffer, unicode: boolean, name: string): string | { error: string } {
  if (!unicode) return b.toString('latin1');
  if (b.length % 2 !== 0) return { error: `${name} has odd length for UTF-16` };
  return b.toString('utf16le');
}

/** Parses any NTLM message; never throws, whatever the bytes. */
export function parseNtlm(buf: Buffer): NtlmResult {
  if (buf.length < 12) return fail('NTLM message shorter than its header');
  if (!buf.subarray(0, 8).equals(NTLM_SIGNATURE)) return fail('missing NTLMSSP signature');
  const type = buf.readUInt32LE(8);
  if (type === 1) {
    if (buf.length < 16) return fail('NEGOTIATE message truncated');
    return { ok: true, message: { type: 1, flags: buf.readUInt32LE(12) } };
  }
  if (type === 2) {
    if (buf.length < 48) return fail('CHALLENGE message truncated');
    const flags = buf.readUInt32LE(20);
    const ti = field(buf, 40, 'TargetInfo');
    if (typeof ti === 'string') return fail(ti);
    return { ok: true, message: { type: 2, flags, serverChallenge: buf.subarray(24, 32), targetInfo: ti } };
  }
  if (type === 3) return parseAuthenticate(buf);
  return fail(`unknown NTLM message type ${type}`);
}

function parseAuthenticate(buf: Buffer): NtlmResult {
  if (buf.length < 64) return fail('AUTHENTICATE message truncated');
  const flags = buf.readUInt32LE(60);
  const unicode = (flags & NtlmFlags.UNICODE) !== 0;
  const lm = field(buf, 12, 'LmChallengeResponse');
  const nt = field(buf, 20, 'NtChallengeResponse');
  const dom = field(buf, 28, 'DomainName');
  const usr = field(buf, 36, 'UserName');
  const ws = field(buf, 44, 'Workstation');
  for (const f of [lm, nt, dom, usr, ws]) if (typeof f === 'string') return fail(f);
  const domain = decodeString(dom as Buffer, unicode, 'DomainName');
  const user = decodeString(usr as Buffer, unicode, 'UserName');
  const workstation = decodeString(ws as Buffer, unicode, 'Workstation');
  for (const s of [domain, user, workstation]) if (typeof s !== 'string') return fail(s.error);
  const ntResponse = nt as Buffer;
  const ntlmVersion = ntResponse.length === 0 ? 'none' : ntResponse.length === 24 ? 'v1' : ntResponse.length > 24 ? 'v2' : undefined;
  if (!ntlmVersion) return fail(`NtChallengeResponse of ${ntResponse.length} bytes is neither v1 nor v2`);
  let channelBindings = false;
  if (ntlmVersion === 'v2') {
    if (ntResponse.length < 16 + 28) return fail('NTLMv2 response shorter than its fixed part');
    const avs = readAvPairs(ntResponse.subarray(16 + 28));
    if (typeof avs === 'string') return fail(`NTLMv2 blob: ${avs}`);
    const cb = avs.get(AvId.ChannelBindings);
    channelBindings = cb !== undefined && cb.some((b) => b !== 0);
  }
  const anonymous = (flags & NtlmFlags.ANONYMOUS) !== 0 || ((user as string) === '' && ntResponse.length === 0);
  return {
    ok: true,
    message: {
      type: 3,
      flags,
      domain: domain as string,
      user: user as string,
      workstation: workstation as string,
      anonymous,
      ntlmVersion,
      channelBindings,
      ntResponse,
    },
  };
}

/** Reads an AV_PAIR list up to MsvAvEOL ([MS-NLMP] §2.2.2.1). */
export function readAvPairs(buf: Buffer): Map<number, Buffer> | string {
  const out = new Map<number, Buffer>();
  let i = 0;
  for (let n = 0; n < 64; n++) {
    if (i + 4 > buf.length) return 'AV_PAIR list truncated';
    const id = buf.readUInt16LE(i);
    const len = buf.readUInt16LE(i + 2);
    if (i + 4 + len > buf.length) return 'AV_PAIR value runs past the end';
    if (id === AvId.EOL) return out;
    out.set(id, buf.subarray(i + 4, i + 4 + len));
    i += 4 + len;
  }
  return 'too many AV_PAIRs';
}

export function writeAvPairs(pairs: ReadonlyArray<[number, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [id, value] of pairs) {
    const h = Buffer.alloc(4);
    h.writeUInt16LE(id, 0);
    h.writeUInt16LE(value.length, 2);
    parts.push(h, value);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}
