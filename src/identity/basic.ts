import type { Claim } from '../vocabulary/claim.js';

export type BasicResult =
  | { readonly ok: true; readonly claim: Claim; readonly password: string }
  | { readonly ok: false; readonly error: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Splits a logon name into a claim: `DOMAIN\user`, `user@upn` or a bare `user`. */
export function claimOfLogon(name: string): Claim | undefined {
  const bs = name.indexOf('\\');
  if (bs >= 0) {
    const domain = name.slice(0, bs);
    const user = name.slice(bs + 1);
    if (!domain || !user || user.includes('\\')) return undefined;
    return { domain, user };
  }
  if (!name) return undefined;
  return { domain: '', user: name };
}

/**
 * Parses the token of `Authorization: Basic <token>` (RFC 7617). UTF-8 first, Latin-1 when the
 * bytes are not valid UTF-8 (what older ActiveSync devices send).
 */
export function parseBasic(token: string): BasicResult {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(token) || token.length % 4 !== 0) return { ok: false, error: 'Basic credentials are not base64' };
  const raw = Buffer.from(token, 'base64');
  if (raw.length > 4096) return { ok: false, error: 'Basic credentials too long' };
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    text = raw.toString('latin1');
  }
  const colon = text.indexOf(':');
  if (colon < 0) return { ok: false, error: 'Basic credentials without a colon' };
  if (/[\x00-\x1f\x7f]/.test(text.slice(0, colon))) return { ok: false, error: 'control character in the Basic user name' };
  const claim = claimOfLogon(text.slice(0, colon));
  if (!claim) return { ok: false, error: 'empty or malformed user name' };
  return { ok: true, claim, password: text.slice(colon + 1) };
}
