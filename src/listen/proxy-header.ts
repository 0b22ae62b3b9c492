// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2): what a layer-4 load
// balancer sends before the client's first byte to say who the client is. A pure function over
// bytes: it says "incomplete", "error" or what the header says and how many bytes it took; the
// listener (proxy-admission.ts) decides what to do with it.
import net from 'node:net';

/** The 12 bytes every version 2 header starts with. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** Version 1's own bound: "PROXY TCP6 " + two full IPv6 addresses + two ports + CRLF. */
export const PROXY_V1_MAX_BYTES = 107;
/**
 * Default bound of a version 2 header, TLVs included. HAProxy's largest (unique id, SSL sub-TLVs,
 * authority, ALPN) stay well under 1 KiB; the format would allow 64 KiB, which is 64 KiB per
 * socket an unauthenticated peer could make the gateway hold.
 */
export const PROXY_V2_DEFAULT_MAX_BYTES = 2048;

export interface ProxyAddress {
  readonly address: string;
  readonly port: number;
}

export interface ProxyTlv {
  readonly type: number;
  readonly value: Buffer;
}

export interface ProxyHeader {
  readonly version: 1 | 2;
  /** 'local': the proxy's own connection (a health check): no client address is carried. */
  readonly command: 'proxy' | 'local';
  /**
   * What the addresses are: tcp4/tcp6 carry `source` and `destination`; 'unknown' (v1 UNKNOWN, v2
   * AF_UNSPEC) and the others carry no client address the gateway can use.
   */
  readonly transport: 'tcp4' | 'tcp6' | 'udp4' | 'udp6' | 'unix-stream' | 'unix-dgram' | 'unknown';
  readonly source?: ProxyAddress;
  readonly destination?: ProxyAddress;
  /** Version 2 type-length-value extensions, as sent (views into the input). */
  readonly tlvs: readonly ProxyTlv[];
}

export type ProxyHeaderResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'header'; readonly header: ProxyHeader; readonly length: number };

const INCOMPLETE = { kind: 'incomplete' } as const;
const fail = (message: string): ProxyHeaderResult => ({ kind: 'error', message });

/** Does `buf` start like `prefix` as far as both go? */
function startsLike(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.subarray(0, n).equals(prefix.subarray(0, n));
}

/**
 * Parses a PROXY header at the start of `buf`. Anything that is not the start of a header is an
 * error at once (a TLS ClientHello fails on its first byte), so a client that should have come
 * through the proxy is refused without waiting.
 */
export function parseProxyHeader(buf: Buffer, maxV2Bytes = PROXY_V2_DEFAULT_MAX_BYTES): ProxyHeaderResult {
  if (buf.length === 0) return INCOMPLETE;
  if (startsLike(buf, PROXY_V2_SIGNATURE)) return buf.length < 16 ? INCOMPLETE : parseV2(buf, maxV2Bytes);
  if (startsLike(buf, V1_PREFIX)) return parseV1(buf);
  return fail('no PROXY protocol header (the connection did not come through the proxy)');
}

const PORT = /^(0|[1-9][0-9]{0,4})$/;

function parseV1(buf: Buffer): ProxyHeaderResult {
  const end = buf.subarray(0, PROXY_V1_MAX_BYTES).indexOf('\r\n', 0, 'latin1');
  if (end < 0) {
    if (buf.length >= PROXY_V1_MAX_BYTES) return fail(`PROXY v1 header without CRLF in its first ${PROXY_V1_MAX_BYTES} bytes`);
    // Only printable ASCII may come before the CRLF: reject garbage now rather than at the bound.
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i]!;
      // CR only as the last byte so far (its LF may be on the way).
      if ((b < 0x20 || b > 0x7e) && !(b === 0x0d && i === buf.length - 1)) return fail('PROXY v1 header with a byte that is not printable ASCII');
    }
    return INCOMPLETE;
  }
  const line = buf.subarray(0, end).toString('latin1');
  if (!/^[\x20-\x7e]*$/.test(line)) return fail('PROXY v1 header with a byte that is not printable ASCII');
  const parts = line.split(' ');
  const length = end + 2;
  // UNKNOWN: the proxy does not know the client's address; whatever follows is to be ignored.
  if (parts[1] === 'UNKNOWN') return { kind: 'header', length, header: { version: 1, command: 'proxy', transport: 'unknown', tlvs: [] } };
  if (parts.length !== 6) return fail('PROXY v1 header is not "PROXY TCP4|TCP6 src dst sport dport"');
  const [, proto, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const family = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  if (family === 0) return fail(`PROXY v1 protocol "${proto.slice(0, 16)}" is not TCP4, TCP6 or UNKNOWN`);
  if (net.isIP(src) !== family || net.isIP(dst) !== family) return fail(`PROXY v1 addresses are not ${proto} addresses`);
  if (!PORT.test(sport) || !PORT.test(dport) || Number(sport) > 65535 || Number(dport) > 65535) return fail('PROXY v1 ports are not decimal numbers from 0 to 65535');
  return {
    kind: 'header',
    length,
    header: {
      version: 1,
      command: 'proxy',
      transport: family === 4 ? 'tcp4' : 'tcp6',
      source: { address: src, port: Number(sport) },
      destination: { address: dst, port: Number(dport) },
      tlvs: [],
    },
  };
}

const TRANSPORTS: Record<number, ProxyHeader['transport']> = {
  0x00: 'unknown',
  0x11: 'tcp4',
  0x12: 'udp4',
  0x21: 'tcp6',
  0x22: 'udp6',
  0x31: 'unix-stream',
  0x32: 'unix-dgram',
};
const ADDRESS_BYTES: Record<ProxyHeader['transport'], number> = { unknown: 0, tcp4: 12, udp4: 12, tcp6: 36, udp6: 36, 'unix-stream': 216, 'unix-dgram': 216 };

function ipv6At(buf: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(at + i * 2).toString(16));
  // The longest run of two or more zero groups becomes "::" (RFC 5952), first run on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

function parseV2(buf: Buffer, maxBytes: number): ProxyHeaderResult {
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return fail(`PROXY v2 header with version ${verCmd >> 4}`);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return fail(`PROXY v2 header with unknown command ${cmd}`);
  const transport = TRANSPORTS[buf[13]!];
  if (transport === undefined) return fail(`PROXY v2 header with unknown address family/transport 0x${buf[13]!.toString(16).padStart(2, '0')}`);
  const bodyLen = buf.readUInt16BE(14);
  const length = 16 + bodyLen;
  if (length > maxBytes) return fail(`PROXY v2 header of ${length} bytes is over the ${maxBytes}-byte bound`);
  if (buf.length < length) return INCOMPLETE;
  // LOCAL: the proxy's own connection; its address block (if any) is to be skipped unread.
  if (cmd === 0) return { kind: 'header', length, header: { version: 2, command: 'local', transport, tlvs: [] } };
  const addrLen = ADDRESS_BYTES[transport];
  if (bodyLen < addrLen) return fail(`PROXY v2 ${transport} header with ${bodyLen} bytes of addresses (needs ${addrLen})`);
  const tlvs: ProxyTlv[] = [];
  for (let at = 16 + addrLen; at < length; ) {
    if (length - at < 3) return fail('PROXY v2 header with a truncated TLV');
    const type = buf[at]!;
    const len = buf.readUInt16BE(at + 1);
    if (at + 3 + len > length) return fail(`PROXY v2 TLV 0x${type.toString(16)} runs past the header`);
    tlvs.push({ type, value: buf.subarray(at + 3, at + 3 + len) });
    at += 3 + len;
  }
  let source: ProxyAddress | undefined;
  let destination: ProxyAddress | undefined;
  if (transport === 'tcp4' || transport === 'udp4') {
    const ip = (at: number) => `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
    source = { address: ip(16), port: buf.readUInt16BE(24) };
    destination = { address: ip(20), port: buf.readUInt16BE(26) };
  } else if (transport === 'tcp6' || transport === 'udp6') {
    source = { address: ipv6At(buf, 16), port: buf.readUInt16BE(48) };
    destination = { address: ipv6At(buf, 32), port: buf.readUInt16BE(50) };
  }
  return { kind: 'header', length, header: { version: 2, command: 'proxy', transport, ...(source ? { source, destination } : {}), tlvs } };
}

/**
 * The client address a header gives, or why the connection must be refused. LOCAL (v2) and
 * UNKNOWN (v1) are the proxy's own connections (health checks): the specification says to use the
 * real endpoints, so they are served as the proxy's own address. A PROXY command over UDP, AF_UNIX
 * or AF_UNSPEC claims to relay a client without saying who it is: refused (fail closed), as a
 * client of unknown address would otherwise take the proxy's zone.
 */
export function clientOfHeader(h: ProxyHeader): { kind: 'client'; address: string; port: number } | { kind: 'proxy-itself' } | { kind: 'refuse'; message: string } {
  if (h.command === 'local' || (h.version === 1 && h.transport === 'unknown')) return { kind: 'proxy-itself' };
  if ((h.transport === 'tcp4' || h.transport === 'tcp6') && h.source) return { kind: 'client', address: h.source.address, port: h.source.port };
  return { kind: 'refuse', message: `PROXY v2 header relays a ${h.transport} client without an IP address` };
}
