// SPNEGO ("Negotiate") tokens, RFC 4178 / [MS-SPNG]: tells NTLM from Kerberos and unwraps the
// NTLM message, so the user is visible even when the client speaks Negotiate. Pure, never throws.
import { type Tlv, oidBytes, oidToString, readChildren, readTlv, tlv } from './der.js';
import { NTLM_SIGNATURE } from './ntlm.js';

export const OID = {
  spnego: '1.3.6.1.5.5.2',
  ntlm: '1.3.6.1.4.1.311.2.2.10',
  kerberos: '1.2.840.113554.1.2.2',
  msKerberos: '1.2.840.48018.1.2.2',
  negoex: '1.3.6.1.4.1.311.2.2.30',
} as const;

const KERBEROS = new Set<string>([OID.kerberos, OID.msKerberos, `${OID.kerberos}.3`]);

export type NegotiateToken =
  /** Raw NTLMSSP under the Negotiate scheme, or NTLM inside SPNEGO. */
  | { readonly kind: 'ntlm'; readonly ntlm: Buffer; readonly wrapped: boolean; readonly mechTypes: string[] }
  /** A Kerberos AP-REQ (raw GSS or inside SPNEGO): the user is not visible without the service key. */
  | { readonly kind: 'kerberos'; readonly mechTypes: string[] }
  /** A SPNEGO message with no mechanism token (e.g. a mechListMIC-only NegTokenResp). */
  | { readonly kind: 'empty'; readonly mechTypes: string[] };

export type NegotiateResult = { readonly ok: true; readonly token: NegotiateToken } | { readonly ok: false; readonly error: string };

function fail(error: string): NegotiateResult {
  return { ok: false, error };
}

function child(children: Tlv[], tag: number): Tlv | undefined {
  return children.find((c) => c.tag === tag);
}

function classifyInner(inner: Buffer, mechTypes: string[]): NegotiateResult {
  if (inner.subarray(0, 8).equals(NTLM_SIGNATURE)) return { ok: true, token: { kind: 'ntlm', ntlm: inner, wrapped: true, mechTypes } };
  if (inner[0] === 0x60) {
    const gss = readTlv(inner);
    if (gss.ok) {
      const oid = readTlv(gss.value.value);
      if (oid.ok && oid.value.tag === 0x06 && KERBEROS.has(oidToString(oid.value.value) ?? '')) {
        return { ok: true, token: { kind: 'kerberos', mechTypes } };
      }
    }
  }
  if (mechTypes[0] && KERBEROS.has(mechTypes[0])) return { ok: true, token: { kind: 'kerberos', mechTypes } };
  return fail('SPNEGO mechanism token is neither NTLM nor Kerberos');
}

/** The fields of a NegTokenInit or NegTokenResp SEQUENCE. */
function sequenceFields(seq: Buffer, what: string): Tlv[] | string {
  const s = readTlv(seq);
  if (!s.ok) return s.error;
  if (s.value.tag !== 0x30) return `${what} is not a SEQUENCE`;
  const fields = readChildren(s.value.value);
  return fields.ok ? fields.value : fields.error;
}

/** The mechanism token in field [2] (mechToken or responseToken), classified. */
function mechToken(fields: Tlv[], mechTypes: string[], what: string): NegotiateResult {
  const tok = child(fields, 0xa2);
  if (!tok) return { ok: true, token: { kind: 'empty', mechTypes } };
  const os = readTlv(tok.value);
  if (!os.ok || os.value.tag !== 0x04) return fail(`${what} is not an OCTET STRING`);
  return classifyInner(os.value.value, mechTypes);
}

function parseNegTokenInit(seq: Buffer): NegotiateResult {
  const fields = sequenceFields(seq, 'NegTokenInit');
  if (typeof fields === 'string') return fail(fields);
  const mechTypes: string[] = [];
  const mt = child(fields, 0xa0);
  if (mt) {
    const list = readTlv(mt.value);
    if (!list.ok || list.value.tag !== 0x30) return fail('mechTypes is not a SEQUENCE OF OID');
    const oids = readChildren(list.value.value);
    if (!oids.ok) return fail(oids.error);
    for (const o of oids.value) {
      const d = o.tag === 0x06 ? oidToString(o.value) : undefined;
      if (!d) return fail('malformed mechanism OID');
      mechTypes.push(d);
    }
  }
  return mechToken(fields, mechTypes, 'mechToken');
}

function parseNegTokenResp(seq: Buffer): NegotiateResult {
  const fields = sequenceFields(seq, 'NegTokenResp');
  if (typeof fields === 'string') return fail(fields);
  const mechTypes: string[] = [];
  const mech = child(fields, 0xa1);
  if (mech) {
    const o = readTlv(mech.value);
    const d = o.ok && o.value.tag === 0x06 ? oidToString(o.value.value) : undefined;
    if (!d) return fail('malformed supportedMech');
    mechTypes.push(d);
  }
  return mechToken(fields, mechTypes, 'responseToken');
}

/** Parses what follows `Authorization: Negotiate ` (already base64-decoded). */
export function parseNegotiate(token: Buffer): NegotiateResult {
  if (token.length === 0) return fail('empty Negotiate token');
  if (token.subarray(0, 8).equals(NTLM_SIGNATURE)) return { ok: true, token: { kind: 'ntlm', ntlm: token, wrapped: false, mechTypes: [] } };
  const outer = readTlv(token);
  if (!outer.ok) return fail(outer.error);
  if (outer.value.end !== token.length) return fail('trailing bytes after the Negotiate token');
  if (outer.value.tag === 0xa1) return parseNegTokenResp(outer.value.value);
  if (outer.value.tag !== 0x60) return fail(`unexpected Negotiate token tag 0x${outer.value.tag.toString(16)}`);
  const oid = readTlv(outer.value.value);
  if (!oid.ok || oid.value.tag !== 0x06) return fail('GSS token without a mechanism OID');
  const mech = oidToString(oid.value.value);
  if (mech && KERBEROS.has(mech)) return { ok: true, token: { kind: 'kerberos', mechTypes: [mech] } };
  if (mech !== OID.spnego) return fail(`unsupported GSS mechanism ${mech ?? '?'}`);
  const choice = readTlv(outer.value.value, oid.value.end);
  if (!choice.ok) return fail(choice.error);
  if (choice.value.tag === 0xa0) return parseNegTokenInit(choice.value.value);
  if (choice.value.tag === 0xa1) return parseNegTokenResp(choice.value.value);
  return fail('SPNEGO token is neither NegTokenInit nor NegTokenResp');
}

/** A NegTokenResp carrying an NTLM message (the lab's answer to a wrapped NEGOTIATE). */
export function negTokenResp(state: 0 | 1 | 2, ntlm?: Buffer): Buffer {
  return tlv(
    0xa1,
    tlv(
      0x30,
      tlv(0xa0, tlv(0x0a, Buffer.from([state]))),
      ...(ntlm ? [tlv(0xa1, tlv(0x06, oidBytes(OID.ntlm))), tlv(0xa2, tlv(0x04, ntlm))] : []),
    ),
  );
}

/** A NegTokenInit offering NTLM with the given NTLM message (what a client sends; tests use it). */
export function negTokenInit(ntlm: Buffer, mechs: string[] = [OID.ntlm]): Buffer {
  return tlv(
    0x60,
    tlv(0x06, oidBytes(OID.spnego)),
    tlv(0xa0, tlv(0x30, tlv(0xa0, tlv(0x30, ...mechs.map((m) => tlv(0x06, oidBytes(m))))), tlv(0xa2, tlv(0x04, ntlm)))),
  );
}
