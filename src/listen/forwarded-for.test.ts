import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockListOf, parseCidr } from '../vocabulary/cidr.js';
import { clientFromForwardedFor } from './forwarded-for.js';

const trusted = blockListOf(['10.0.0.0/8', '192.0.2.10/32', '2001:db8:f::/48'].map((c) => parseCidr(c)!));
const xff = (...values: string[]) => values.map((value) => ({ name: 'X-Forwarded-For', value }));

describe('clientFromForwardedFor', () => {
  const cases: Array<[string, string, ReturnType<typeof xff>, string]> = [
    // [name, peer, headers, expected: "direct", an address, or "error"]
    ['peer not trusted: header ignored', '203.0.113.5', xff('198.51.100.1'), 'direct'],
    ['peer not trusted, no header', '203.0.113.5', [], 'direct'],
    ['one hop', '10.0.0.1', xff('203.0.113.7'), '203.0.113.7'],
    ['client-written entries left of the real one are never read', '10.0.0.1', xff('10.9.9.9, 198.51.100.1, 203.0.113.7'), '203.0.113.7'],
    ['trusted hops are skipped from the right', '10.0.0.1', xff('203.0.113.7, 192.0.2.10, 10.2.3.4'), '203.0.113.7'],
    ['several fields are one list, in order', '10.0.0.1', xff('198.51.100.1', '203.0.113.7', '10.2.3.4'), '203.0.113.7'],
    ['every hop trusted: the left-most', '10.0.0.1', xff('10.0.0.9, 10.0.0.8'), '10.0.0.9'],
    ['IPv6 peer and client', '2001:db8:f::1', xff('2001:db8::7'), '2001:db8::7'],
    ['IPv4-mapped IPv6 peer counts as IPv4', '::ffff:10.0.0.1', xff('203.0.113.7'), '203.0.113.7'],
    ['bracketed IPv6 with port', '10.0.0.1', xff('[2001:db8::7]:443'), '2001:db8::7'],
    ['IPv4 with port', '10.0.0.1', xff('203.0.113.7:51000'), '203.0.113.7'],
    ['spaces around entries', '10.0.0.1', xff('  203.0.113.7 ,10.0.0.2 '), '203.0.113.7'],
    ['garbage left of the client is not read', '10.0.0.1', xff('<script>, 203.0.113.7'), '203.0.113.7'],
    ['trusted peer without the header', '10.0.0.1', [], 'error'],
    ['empty entry on the trusted side', '10.0.0.1', xff('203.0.113.7,, 10.0.0.2'), 'error'],
    ['a name, not an address', '10.0.0.1', xff('client.example'), 'error'],
    ['unknown (RFC 7239 obfuscated) entry', '10.0.0.1', xff('unknown'), 'error'],
    ['IPv6 without brackets but with a port', '10.0.0.1', xff('2001:db8::7:443:1:2:3:4:5'), 'error'],
    ['empty header', '10.0.0.1', xff(''), 'error'],
  ];
  for (const [name, peer, headers, want] of cases) {
    it(name, () => {
      const r = clientFromForwardedFor(peer, headers, trusted);
      const got = r.kind === 'forwarded' ? r.address : r.kind;
      assert.equal(got, want, JSON.stringify(r));
    });
  }
});
