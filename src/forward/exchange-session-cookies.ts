// Exchange's forms-based sign-in: where it takes a password (in a form body, not in Authorization)
// and the cookies that then stand for the user. The gateway decides who a request is from the
// Authorization it proved, so neither may come from a client: a password posted to auth.owa
// reaches Exchange untouched by lockout and policy (any user, tried without limit), and a cadata
// cookie beside another user's Basic or NTLM makes Exchange answer as the cookie's user while the
// gateway checked the other one. Browser sign-in (src/signin) is the one way in that uses them,
// with cookies the gateway itself got from Exchange and keeps.
import type { HeaderField } from '../http/headers.js';

/**
 * Canonical paths (src/classify/normalize-path.ts) where Exchange takes a password in a form body:
 * the forms sign-in, current and legacy, and the expired-password change (old password checked).
 */
const FORMS_SIGNIN_PATHS: ReadonlySet<string> = new Set(['/owa/auth.owa', '/owa/auth/owaauth.dll', '/exchweb/bin/auth/owaauth.dll', '/ecp/auth.owa', '/owa/auth/expiredpassword.aspx']);

export function isFormsSignInPath(path: string): boolean {
  return FORMS_SIGNIN_PATHS.has(path);
}

/** cadata, cadataKey, cadataIV, cadataSig, cadataTTL: the session of Exchange's forms sign-in. */
function isExchangeSessionCookie(name: string): boolean {
  let n = name.trim();
  try {
    n = decodeURIComponent(n);
  } catch {
    // Not percent-encoded after all: the name as sent.
  }
  return n.trim().toLowerCase().startsWith('cadata');
}

/** The fields without any cookie of Exchange's forms sign-in (the same array when there is none). */
export function withoutExchangeSessionCookies(headers: readonly HeaderField[]): readonly HeaderField[] {
  let changed = false;
  const out: HeaderField[] = [];
  for (const f of headers) {
    if (f.name.toLowerCase() !== 'cookie') {
      out.push(f);
      continue;
    }
    const parts = f.value.split(';');
    const kept = parts.filter((p) => {
      const eq = p.indexOf('=');
      return !isExchangeSessionCookie(eq >= 0 ? p.slice(0, eq) : p);
    });
    if (kept.length === parts.length) {
      out.push(f);
      continue;
    }
    changed = true;
    const value = kept.map((p) => p.trim()).filter((p) => p !== '').join('; ');
    if (value !== '') out.push({ name: f.name, value });
  }
  return changed ? out : headers;
}
