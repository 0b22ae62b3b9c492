import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as asn1js from 'asn1js';
import { oidBytes, oidToString, readTlv, tlv } from './der.js';
import { OID, negTokenInit, negTokenResp, parseNegotiate } from './spnego.js';

const NTLM1 = Buffer.from('TlRMTVNTUAABAAAABQKIoAAAAAAAAAAAAAAAAAAAAAA=', 'base64');

function kerberosApReq(): Buffer {
  // GSS-API framing of a Kerberos AP-REQ: [APPLICATION 0] { OID krb5, 01 00, [APPLICATION 14] ... }
  return tlv(0x60, tlv(0x06, oidBytes(OID.kerberos)), Buffer.from([1, 0]), tlv(0x6e, tlv(0x30, tlv(0xa0, tlv(0x02, Buffer.from([5]))))));
}

describe('DER reader', () => {
  it('agrees with asn1js on OIDs and lengths', () => {
    for (const oid of Object.values(OID)) {
      const der = tlv(0x06, oidBytes(oid));
      const ref = asn1js.fromBER(new Uint8Array(der).buffer);
      assert.equal((ref.result as asn1js.ObjectIdentifier).valueBlock.toString(), oid);
      const t = readTlv(der);
      assert.ok(t.ok);
      if (t.ok) assert.equal(oidToString(t.value.value), oid);
    }
    const long = tlv(0x04, Buffer.alloc(300, 1));
    const ref = asn1js.fromBER(new Uint8Array(long).buffer);
    assert.equal((ref.result as asn1js.OctetString).valueBlock.valueHexView.length, 300);
    const t = readTlv(long);
    assert.ok(t.ok && t.value.value.length === 300);
  });

  for (const [name, bytes] of [
    ['indefinite length', [0x30, 0x80, 0, 0]],
    ['non-minimal length', [0x04, 0x81, 0x05, 1, 2, 3, 4, 5]],
    ['length past the end', [0x04, 0x05, 1]],
    ['high tag number', [0x1f, 0x01, 0x00]],
    ['length field too long', [0x04, 0x85, 1, 0, 0, 0, 0]],
  ] as const) {
    it(`rejects ${name}`, () => assert.equal(readTlv(Buffer.from(bytes)).ok, false));
  }
});

describe('parseNegotiate', () => {
  it('raw NTLMSSP under Negotiate', () => {
    const r = parseNegotiate(NTLM1);
    assert.ok(r.ok && r.token.kind === 'ntlm' && !r.token.wrapped);
  });

  it('NTLM inside a NegTokenInit', () => {
    const r = parseNegotiate(negTokenInit(NTLM1));
    assert.ok(r.ok && r.token.kind === 'ntlm' && r.token.wrapped && r.token.ntlm.equals(NTLM1));
    if (r.ok) assert.deepEqual(r.token.mechTypes, [OID.ntlm]);
  });

  it('NTLM inside a NegTokenResp', () => {
    const r = parseNegotiate(negTokenResp(1, NTLM1));
    assert.ok(r.ok && r.token.kind === 'ntlm' && r.token.ntlm.equals(NTLM1));
  });

  it('recognises a Kerberos AP-REQ, raw and inside SPNEGO as Windows sends it', () => {
    const raw = parseNegotiate(kerberosApReq());
    assert.ok(raw.ok && raw.token.kind === 'kerberos');
    const wrapped = parseNegotiate(negTokenInit(kerberosApReq(), [OID.msKerberos, OID.kerberos, OID.negoex, OID.ntlm]));
    assert.ok(wrapped.ok && wrapped.token.kind === 'kerberos');
  });

  it('an accept-completed NegTokenResp carries no mechanism token', () => {
    const r = parseNegotiate(negTokenResp(0));
    assert.ok(r.ok && r.token.kind === 'empty');
  });

  for (const [name, buf] of [
    ['empty', Buffer.alloc(0)],
    ['trailing bytes', Buffer.concat([negTokenInit(NTLM1), Buffer.from([0])])],
    ['wrong outer tag', Buffer.from([0x30, 0x00])],
    ['foreign GSS mechanism', tlv(0x60, tlv(0x06, oidBytes('1.2.3.4')))],
    ['unknown inner token', negTokenInit(Buffer.from('hello'), [OID.ntlm])],
  ] as const) {
    it(`rejects ${name}`, () => assert.equal(parseNegotiate(buf).ok, false));
  }

  it('never throws on mutated tokens (fuzz, 20000 inputs)', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const bases = [negTokenInit(NTLM1), negTokenResp(1, NTLM1), negTokenInit(kerberosApReq(), [OID.kerberos])];
    for (let i = 0; i < 20000; i++) {
      const base = bases[i % bases.length]!;
      const b = Buffer.from(base.subarray(0, Math.floor(rnd() * (base.length + 1))));
      for (let k = 0; k < 3; k++) if (b.length) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      assert.doesNotThrow(() => parseNegotiate(b));
    }
  });
});
