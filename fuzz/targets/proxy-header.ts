// The PROXY protocol header parser (src/listen/proxy-header.ts), versions 1 and 2. Oracles:
// never throws; a header's length lies within the input and the bounds (107 bytes for v1, the
// v2 bound); every shorter prefix of an accepted header is "incomplete", never an error or another
// header; an error stays an error with more bytes behind it (the listener refuses at once, so a
// refusal must not depend on bytes not yet read); TLVs are views inside the header; a v1 TCP header
// and a v2 TCP4 header rebuilt from the parsed fields are the bytes that were read.
import { PROXY_V1_MAX_BYTES, PROXY_V2_DEFAULT_MAX_BYTES, PROXY_V2_SIGNATURE, parseProxyHeader } from '../../src/listen/proxy-header.js';
import { type FuzzTarget, invariant, sameValue, sourceUrl } from '../engine/target.js';

function rebuildV2Tcp4(h: { source?: { address: string; port: number }; destination?: { address: string; port: number } }, tail: Buffer): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(h.source!.address.split('.').map(Number)).copy(b, 0);
  Buffer.from(h.destination!.address.split('.').map(Number)).copy(b, 4);
  b.writeUInt16BE(h.source!.port, 8);
  b.writeUInt16BE(h.destination!.port, 10);
  return Buffer.concat([b, tail]);
}

const target: FuzzTarget = {
  name: 'proxy-header',
  sources: [sourceUrl('../../src/listen/proxy-header.ts', import.meta.url)],
  maxLen: 2600,
  dictionary: [
    'PROXY ', 'TCP4 ', 'TCP6 ', 'UNKNOWN', '\r\n', ' ', '::', '::ffff:', '.', '65535', '0', '127.0.0.1', '2001:db8::1',
    [...PROXY_V2_SIGNATURE], [0x21, 0x11, 0x00, 0x0c], [0x21, 0x21, 0x00, 0x24], [0x20, 0x00, 0x00, 0x00], [0x21, 0x31, 0x00, 0xd8], [0x05, 0x00, 0x04],
  ],
  run(input) {
    const r = parseProxyHeader(input);
    if (r.kind === 'error') {
      sameValue(parseProxyHeader(Buffer.concat([input, Buffer.from('\r\n\x16\x03\x01')])).kind, 'error', 'an error became something else with more bytes');
      return;
    }
    if (r.kind === 'incomplete') {
      invariant(input.length < Math.max(PROXY_V1_MAX_BYTES, PROXY_V2_DEFAULT_MAX_BYTES), 'incomplete past every bound', () => input.length);
      return;
    }
    const { header: h, length } = r;
    invariant(length > 0 && length <= input.length, 'header length outside the input', () => [length, input.length]);
    invariant(length <= (h.version === 1 ? PROXY_V1_MAX_BYTES : PROXY_V2_DEFAULT_MAX_BYTES), 'header longer than its bound', () => length);
    for (const cut of new Set([1, Math.floor(length / 2), length - 1])) {
      if (cut <= 0 || cut >= length) continue;
      sameValue(parseProxyHeader(input.subarray(0, cut)).kind, 'incomplete', 'a prefix of a header is not incomplete');
    }
    for (const t of h.tlvs) invariant(t.value.buffer === input.buffer && t.value.byteOffset + t.value.length <= input.byteOffset + length, 'TLV outside the header');
    const read = input.subarray(0, length);
    if (h.version === 1 && h.source && h.destination) {
      const line = `PROXY ${h.transport.toUpperCase()} ${h.source.address} ${h.destination.address} ${h.source.port} ${h.destination.port}\r\n`;
      sameValue(line, read.toString('latin1'), 'a v1 header rebuilt from its fields differs');
    }
    if (h.version === 2 && h.transport === 'tcp4' && h.command === 'proxy') {
      const body = rebuildV2Tcp4(h, read.subarray(28));
      sameValue(body.equals(read.subarray(16)), true, 'a v2 TCP4 address block rebuilt from its fields differs');
    }
  },
};

export default target;
