// What an Authorization header says, decoded once per request. Pure: the decision about it is
// made by the access gate, with the connection's handshake state.
import type { Claim } from '../vocabulary/claim.js';
import { parseBasic } from './basic.js';
import { type NtlmAuthenticate, parseNtlm } from './ntlm.js';
import { parseNegotiate } from './spnego.js';

export type Credential =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly claim: Claim; readonly password: string }
  /** NTLM NEGOTIATE or CHALLENGE-leg: the first leg of a handshake, carries no user. */
  | { readonly kind: 'ntlm-start'; readonly scheme: 'NTLM' | 'Negotiate' }
  | { readonly kind: 'ntlm-auth'; readonly scheme: 'NTLM' | 'Negotiate'; readonly message: NtlmAuthenticate }
  /** SPNEGO without a mechanism token (e.g. the client's final mechListMIC). */
  | { readonly kind: 'negotiate-empty' }
  | { readonly kind: 'kerberos' }
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'malformed'; readonly scheme: string; readonly error: string }
  | { readonly kind: 'other'; readonly scheme: string };

const MAX_TOKEN = 48 * 1024;

export function parseAuthorization(header: string | undefined): Credential {
  if (header === undefined) return { kind: 'none' };
  const sp = header.indexOf(' ');
  const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase();
  // Only SP/HTAB may surround the token (RFC 7235). trim() would also drop CR, LF and the latin1
  // byte 0xA0 (U+00A0), so "NTLM \xa0<token>" was read as a login (found by npm run fuzz).
  const token = sp < 0 ? '' : header.slice(sp + 1).replace(/^[ \t]+|[ \t]+$/g, '');
  if (token.length > MAX_TOKEN) return { kind: 'malformed', scheme, error: 'credentials too long' };
  switch (scheme) {
    case 'basic': {
      const b = parseBasic(token);
      return b.ok ? { kind: 'basic', claim: b.claim, password: b.password } : { kind: 'malformed', scheme, error: b.error };
    }
    case 'ntlm':
    case 'negotiate': {
      const s = scheme === 'ntlm' ? 'NTLM' : 'Negotiate';
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return { kind: 'malformed', scheme, error: `${s} token is not base64` };
      let raw: Buffer = Buffer.from(token, 'base64');
      if (s === 'Negotiate') {
        const neg = parseNegotiate(raw);
        if (!neg.ok) return { kind: 'malformed', scheme, error: neg.error };
        if (neg.token.kind === 'kerberos') return { kind: 'kerberos' };
        if (neg.token.kind === 'empty') return { kind: 'negotiate-empty' };
        raw = neg.token.ntlm;
      }
      const n = parseNtlm(raw);
      if (!n.ok) return { kind: 'malformed', scheme, error: n.error };
      if (n.message.type === 3) return { kind: 'ntlm-auth', scheme: s, message: n.message };
      if (n.message.type === 1) return { kind: 'ntlm-start', scheme: s };
      return { kind: 'malformed', scheme, error: 'a client sent an NTLM CHALLENGE' };
    }
    case 'bearer':
      return token ? { kind: 'bearer', token } : { kind: 'none' }; // Outlook probes with an empty Bearer
    default:
      return { kind: 'other', scheme };
  }
}
