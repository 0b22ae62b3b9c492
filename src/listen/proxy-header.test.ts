import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROXY_V2_SIGNATURE, clientOfHeader, parseProxyHeader } from './proxy-header.js';

const l1 = (s: string) => Buffer.from(s, 'latin1');

/** A version 2 header: command byte, family byte, address block and TLVs. */
function v2(cmd: number, fam: number, body: Buffer | number[] = [], declaredLen?: number): Buffer {
  const b = Buffer.from(body);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(declaredLen ?? b.length);
  return Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([cmd, fam]), len, b]);
}
const ipv4Block = (src: number[], dst: number[], sport: number, dport: number) => {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
};
const tlv = (type: number, value: Buffer) => Buffer.concat([Buffer.from([type, value.length >> 8, value.length & 0xff]), value]);
const ipv6Block = (() => {
  const b = Buffer.alloc(36);
  Buffer.from('20010db8000000000000000000000001', 'hex').copy(b, 0);
  Buffer.from('00000000000000000000ffffc0000201', 'hex').copy(b, 16);
  b.writeUInt16BE(51000, 32);
  b.writeUInt16BE(443, 34);
  return b;
})();

describe('parseProxyHeader: version 1', () => {
  const cases: Array<[string, string, string | { src?: string; sport?: number; transport: string; length: number }]> = [
    ['TCP4', 'PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n\x16\x03\x01', { src: '203.0.113.7', sport: 51000, transport: 'tcp4', length: 44 }],
    ['TCP6', 'PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n', { src: '2001:db8::1', sport: 1, transport: 'tcp6', length: 44 }],
    ['UNKNOWN (health check)', 'PROXY UNKNOWN\r\n', { transport: 'unknown', length: 15 }],
    ['UNKNOWN with ignored rest', 'PROXY UNKNOWN ffff:f...f:ffff 1 2\r\n', { transport: 'unknown', length: 35 }],
    ['incomplete prefix', 'PRO', 'incomplete'],
    ['incomplete line', 'PROXY TCP4 203.0.113.7 192.0.2.1 51', 'incomplete'],
    ['CR waiting for its LF', 'PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r', 'incomplete'],
    ['TCP4 with IPv6 addresses', 'PROXY TCP4 2001:db8::1 2001:db8::2 1 2\r\n', 'error'],
    ['TCP6 with IPv4 addresses', 'PROXY TCP6 203.0.113.7 192.0.2.1 1 2\r\n', 'error'],
    ['port above 65535', 'PROXY TCP4 203.0.113.7 192.0.2.1 65536 443\r\n', 'error'],
    ['port with a leading zero', 'PROXY TCP4 203.0.113.7 192.0.2.1 0443 443\r\n', 'error'],
    ['signed port', 'PROXY TCP4 203.0.113.7 192.0.2.1 +1 443\r\n', 'error'],
    ['double space', 'PROXY TCP4  203.0.113.7 192.0.2.1 1 443\r\n', 'error'],
    ['missing port', 'PROXY TCP4 203.0.113.7 192.0.2.1 1\r\n', 'error'],
    ['address with leading zeros', 'PROXY TCP4 203.0.113.07 192.0.2.1 1 2\r\n', 'error'],
    ['lower-case protocol', 'PROXY tcp4 203.0.113.7 192.0.2.1 1 2\r\n', 'error'],
    ['UDP4', 'PROXY UDP4 203.0.113.7 192.0.2.1 1 2\r\n', 'error'],
    ['bare LF', 'PROXY TCP4 203.0.113.7 192.0.2.1 1 2\n', 'error'],
    ['NUL inside', 'PROXY TCP4 203.0.113.7\x00', 'error'],
    ['CR not followed by LF', 'PROXY TCP4 1.2.3.4\rX', 'error'],
    ['no CRLF within 107 bytes', `PROXY UNKNOWN ${'a'.repeat(100)}`, 'error'],
    ['TLS ClientHello instead of a header', '\x16\x03\x01\x02\x00\x01', 'error'],
    ['HTTP request instead of a header', 'GET / HTTP/1.1\r\n', 'error'],
    ['"PROXY" without its space', 'PROXYTCP4', 'error'],
  ];
  for (const [name, input, want] of cases) {
    it(name, () => {
      const r = parseProxyHeader(l1(input));
      if (typeof want === 'string') return assert.equal(r.kind, want, JSON.stringify(r));
      assert.equal(r.kind, 'header', JSON.stringify(r));
      if (r.kind !== 'header') return;
      assert.equal(r.length, want.length);
      assert.equal(r.header.version, 1);
      assert.equal(r.header.transport, want.transport);
      assert.equal(r.header.source?.address, want.src);
      assert.equal(r.header.source?.port, want.sport);
    });
  }
});

describe('parseProxyHeader: version 2', () => {
  it('PROXY TCP4 with the bytes after it left alone', () => {
    const h = v2(0x21, 0x11, ipv4Block([203, 0, 113, 7], [192, 0, 2, 1], 51000, 443));
    const r = parseProxyHeader(Buffer.concat([h, l1('\x16\x03\x01')]));
    assert.deepEqual(r.kind === 'header' && [r.length, r.header.command, r.header.transport, r.header.source, r.header.destination], [
      28, 'proxy', 'tcp4', { address: '203.0.113.7', port: 51000 }, { address: '192.0.2.1', port: 443 },
    ]);
  });

  it('PROXY TCP6, addresses in RFC 5952 form', () => {
    const r = parseProxyHeader(v2(0x21, 0x21, ipv6Block));
    assert.equal(r.kind, 'header');
    if (r.kind !== 'header') return;
    assert.deepEqual(r.header.source, { address: '2001:db8::1', port: 51000 });
    assert.deepEqual(r.header.destination, { address: '::ffff:c000:201', port: 443 });
  });

  it('TLVs (HAProxy unique id, authority, a zero-length one) are returned as sent', () => {
    const body = Buffer.concat([ipv4Block([198, 51, 100, 9], [192, 0, 2, 1], 1234, 443), tlv(0x05, l1('id-42')), tlv(0x02, l1('mail.lab.example')), tlv(0xe0, Buffer.alloc(0))]);
    const r = parseProxyHeader(v2(0x21, 0x11, body));
    assert.equal(r.kind, 'header');
    if (r.kind !== 'header') return;
    assert.deepEqual(r.header.tlvs.map((t) => [t.type, t.value.toString('latin1')]), [[5, 'id-42'], [2, 'mail.lab.example'], [0xe0, '']]);
    assert.equal(r.header.source?.address, '198.51.100.9');
  });

  it('LOCAL (health check) skips its address block unread', () => {
    const r = parseProxyHeader(v2(0x20, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)));
    assert.deepEqual(r.kind === 'header' && [r.length, r.header.command, r.header.source], [28, 'local', undefined]);
    const bare = parseProxyHeader(v2(0x20, 0x00));
    assert.deepEqual(bare.kind === 'header' && [bare.length, bare.header.command], [16, 'local']);
  });

  it('PROXY over AF_UNSPEC and AF_UNIX parse, carry no address', () => {
    const unspec = parseProxyHeader(v2(0x21, 0x00));
    assert.deepEqual(unspec.kind === 'header' && [unspec.header.transport, unspec.header.source], ['unknown', undefined]);
    const unix = parseProxyHeader(v2(0x21, 0x31, Buffer.alloc(216)));
    assert.deepEqual(unix.kind === 'header' && [unix.header.transport, unix.header.source, unix.length], ['unix-stream', undefined, 232]);
  });

  const bad: Array<[string, Buffer, 'incomplete' | 'error', RegExp?]> = [
    ['signature only', PROXY_V2_SIGNATURE, 'incomplete'],
    ['part of the signature', PROXY_V2_SIGNATURE.subarray(0, 5), 'incomplete'],
    ['address block still arriving', v2(0x21, 0x11, [203, 0, 113], 12), 'incomplete'],
    ['signature with one wrong byte', Buffer.concat([PROXY_V2_SIGNATURE.subarray(0, 11), Buffer.from([0x0b, 0x21, 0x11, 0, 0])]), 'error'],
    ['version 1 in the version nibble', v2(0x11, 0x11, ipv4Block([1, 1, 1, 1], [2, 2, 2, 2], 1, 2)), 'error', /version 1/],
    ['version 3', v2(0x31, 0x11, ipv4Block([1, 1, 1, 1], [2, 2, 2, 2], 1, 2)), 'error'],
    ['command 2', v2(0x22, 0x11, ipv4Block([1, 1, 1, 1], [2, 2, 2, 2], 1, 2)), 'error', /command/],
    ['family 0x41', v2(0x21, 0x41, ipv4Block([1, 1, 1, 1], [2, 2, 2, 2], 1, 2)), 'error', /family/],
    ['TCP4 with 8 address bytes', v2(0x21, 0x11, Buffer.alloc(8)), 'error', /needs 12/],
    ['TCP6 with 12 address bytes', v2(0x21, 0x21, Buffer.alloc(12)), 'error', /needs 36/],
    ['UNIX with 100 address bytes', v2(0x21, 0x31, Buffer.alloc(100)), 'error'],
    ['TLV header cut short', v2(0x21, 0x11, Buffer.concat([ipv4Block([1, 1, 1, 1], [2, 2, 2, 2], 1, 2), Buffer.from([0x05, 0x00])])), 'error', /truncated/],
    ['TLV longer than the header', v2(0x21, 0x11, Buffer.concat([ipv4Block([1, 1, 1, 1], [2, 2, 2, 2], 1, 2), Buffer.from([0x05, 0x00, 0x09, 0x41])])), 'error', /runs past/],
    ['declared 65535 bytes (over the bound, refused before they arrive)', v2(0x21, 0x11, [], 65535), 'error', /bound/],
    ['declared 2033 bytes (one over the default bound)', v2(0x21, 0x11, [], 2033), 'error', /2049 bytes is over the 2048-byte bound/],
  ];
  for (const [name, input, want, msg] of bad) {
    it(name, () => {
      const r = parseProxyHeader(input);
      assert.equal(r.kind, want, JSON.stringify(r));
      if (msg && r.kind === 'error') assert.match(r.message, msg);
    });
  }

  it('accepts exactly the bound and a larger one when asked', () => {
    const body = Buffer.concat([ipv4Block([1, 1, 1, 1], [2, 2, 2, 2], 1, 2), tlv(0xee, Buffer.alloc(2048 - 16 - 12 - 3))]);
    assert.equal(parseProxyHeader(v2(0x21, 0x11, body)).kind, 'header');
    const more = Buffer.concat([body, tlv(0xee, Buffer.alloc(10))]);
    assert.equal(parseProxyHeader(v2(0x21, 0x11, more)).kind, 'error');
    assert.equal(parseProxyHeader(v2(0x21, 0x11, more), 4096).kind, 'header');
  });
});

describe('clientOfHeader', () => {
  const of = (b: Buffer) => {
    const r = parseProxyHeader(b);
    assert.equal(r.kind, 'header');
    return clientOfHeader((r as { header: Parameters<typeof clientOfHeader>[0] }).header);
  };
  it('a relayed TCP client is the client', () => {
    assert.deepEqual(of(l1('PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n')), { kind: 'client', address: '203.0.113.7', port: 51000 });
    assert.deepEqual(of(v2(0x21, 0x21, ipv6Block)), { kind: 'client', address: '2001:db8::1', port: 51000 });
  });
  it('LOCAL and v1 UNKNOWN are the proxy itself (health checks)', () => {
    assert.deepEqual(of(v2(0x20, 0x00)), { kind: 'proxy-itself' });
    assert.deepEqual(of(l1('PROXY UNKNOWN\r\n')), { kind: 'proxy-itself' });
  });
  it('PROXY over AF_UNSPEC, AF_UNIX or UDP is refused: a client without an address', () => {
    assert.equal(of(v2(0x21, 0x00)).kind, 'refuse');
    assert.equal(of(v2(0x21, 0x31, Buffer.alloc(216))).kind, 'refuse');
    assert.equal(of(v2(0x21, 0x12, ipv4Block([1, 1, 1, 1], [2, 2, 2, 2], 1, 2))).kind, 'refuse');
  });
});
