// SPNEGO / GSS tokens (spnego.ts) and the DER reader under them (der.ts). Oracles: an NTLM token
// returned is a view of the input starting with the signature; mechanism OIDs are well formed and
// survive encode/decode; a TLV the reader accepts re-encodes to exactly its bytes (DER has one
// encoding, and the reader refuses non-minimal lengths); so do the children it splits a value into.
import { oidBytes, oidToString, readChildren, readTlv, tlv } from '../../src/identity/der.js';
import { parseNegotiate } from '../../src/identity/spnego.js';
import { type FuzzTarget, invariant, sourceUrl } from '../engine/target.js';

const within = (part: Buffer, whole: Buffer) =>
  part.buffer === whole.buffer && part.byteOffset >= whole.byteOffset && part.byteOffset + part.length <= whole.byteOffset + whole.length;

function checkOid(dotted: string): void {
  invariant(/^[0-2](\.(0|[1-9][0-9]*))+$/.test(dotted), 'malformed dotted OID', () => dotted);
  invariant(oidToString(oidBytes(dotted)) === dotted, 'OID does not survive encode/decode', () => dotted);
}

/** Walks constructed values two levels down, re-encoding every TLV it reads. */
function checkTlvs(buf: Buffer, depth: number): void {
  const t = readTlv(buf);
  if (!t.ok) return;
  invariant(t.value.end <= buf.length && within(t.value.value, buf), 'TLV runs outside its buffer');
  invariant(tlv(t.value.tag, t.value.value).equals(buf.subarray(0, t.value.end)), 'accepted TLV is not its own DER encoding', () => buf.subarray(0, t.value.end).toString('hex'));
  if (t.value.tag === 0x06) {
    const d = oidToString(t.value.value);
    if (d !== undefined) {
      checkOid(d);
      invariant(oidBytes(d).equals(t.value.value), 'OID content octets do not round-trip', () => t.value.value.toString('hex'));
    }
  }
  if ((t.value.tag & 0x20) === 0 || depth === 0) return;
  const kids = readChildren(t.value.value);
  if (!kids.ok) return;
  invariant(Buffer.concat(kids.value.map((k) => tlv(k.tag, k.value))).equals(t.value.value), 'children do not re-encode to their parent');
  for (const k of kids.value) checkTlvs(Buffer.from(tlv(k.tag, k.value)), depth - 1);
}

const OIDS = ['1.3.6.1.5.5.2', '1.3.6.1.4.1.311.2.2.10', '1.2.840.113554.1.2.2', '1.2.840.48018.1.2.2', '1.3.6.1.4.1.311.2.2.30'];

const target: FuzzTarget = {
  name: 'spnego',
  sources: ['spnego.ts', 'der.ts'].map((f) => sourceUrl(`../../src/identity/${f}`, import.meta.url)),
  maxLen: 2048,
  dictionary: [
    [0x60], [0xa0], [0xa1], [0xa2], [0xa3], [0x30], [0x06], [0x04], [0x0a], [0x80], [0x81], [0x82], [0x84], [0x1f], [0x00],
    ...OIDS.map((o) => [...tlv(0x06, oidBytes(o))]), 'NTLMSSP\0', [1, 0, 0, 0], [3, 0, 0, 0], [0x6e], [0x01, 0x00],
  ],
  run(input) {
    checkTlvs(input, 2);
    const direct = oidToString(input);
    if (direct !== undefined) {
      checkOid(direct);
      invariant(oidBytes(direct).equals(input), 'OID content octets do not round-trip', () => input.toString('hex'));
    }
    const r = parseNegotiate(input);
    if (!r.ok) {
      invariant(typeof r.error === 'string' && r.error.length > 0, 'error without a message');
      return;
    }
    for (const m of r.token.mechTypes) checkOid(m);
    if (r.token.kind !== 'ntlm') return;
    invariant(r.token.ntlm.subarray(0, 8).toString('latin1') === 'NTLMSSP\0', 'NTLM token without the NTLMSSP signature');
    invariant(within(r.token.ntlm, input), 'NTLM token is not a view of the input');
    if (!r.token.wrapped) invariant(r.token.ntlm.equals(input), 'raw NTLM token is not the whole input');
  },
};

export default target;
