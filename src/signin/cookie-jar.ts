// Cookies on the gateway's side of a browser session: reading a request's Cookie header, taking
// the gateway's own cookie out of it before it goes to Exchange, and keeping Exchange's cookies
// (a jar of name=value pairs) that never reach the browser, but for its canaries (CSRF tokens its
// pages' scripts must read).
import type { HeaderField } from '../http/headers.js';

/** The gateway's session cookie: __Host- binds it to this host, path / and Secure. */
export const SESSION_COOKIE = '__Host-portcullis-session';
/** The sign-in form's double-submit token (before any session exists). */
export const CSRF_COOKIE = '__Host-portcullis-csrf';

/** Every value of a cookie in the request's Cookie headers. */
export function cookieValues(headers: readonly HeaderField[], name: string): string[] {
  const out: string[] = [];
  for (const f of headers) {
    if (f.name.toLowerCase() !== 'cookie') continue;
    for (const part of f.value.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === name) out.push(part.slice(eq + 1).trim());
    }
  }
  return out;
}

/**
 * The request's fields for Exchange: every cookie of the gateway's (`__Host-portcullis-*`) taken
 * out, and `add` (Exchange's own cookies, kept by the gateway) put in their place; a browser's
 * cookie named in `held` (lower-case: the canaries the gateway gives it, in any case, as ASP.NET
 * reads cookie names) goes as the gateway holds it, never as the browser sends it.
 */
export function withoutGatewayCookies(headers: readonly HeaderField[], add?: string, held: ReadonlySet<string> = new Set()): HeaderField[] {
  const kept: string[] = [];
  const out: HeaderField[] = [];
  for (const f of headers) {
    if (f.name.toLowerCase() !== 'cookie') {
      out.push(f);
      continue;
    }
    for (const part of f.value.split(';')) {
      const p = part.trim();
      const eq = p.indexOf('=');
      if (p !== '' && !p.startsWith('__Host-portcullis-') && !(eq > 0 && held.has(p.slice(0, eq).trim().toLowerCase()))) kept.push(p);
    }
  }
  if (add) kept.push(add);
  if (kept.length > 0) out.push({ name: 'Cookie', value: kept.join('; ') });
  return out;
}

/** name → value of Exchange's cookies, as the gateway keeps them. */
export type Jar = Record<string, string>;

/** Applies Set-Cookie values to a jar: a cookie emptied or expired is removed. */
export function applySetCookies(jar: Jar, setCookies: readonly string[]): Jar {
  const next: Jar = { ...jar };
  for (const sc of setCookies) {
    const [pair, ...attrs] = sc.split(';');
    const eq = pair!.indexOf('=');
    if (eq <= 0) continue;
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    const expired = attrs.some((a) => {
      const [k, v] = a.split('=').map((x) => x.trim());
      if (k?.toLowerCase() === 'max-age') return Number(v) <= 0;
      if (k?.toLowerCase() === 'expires') return Date.parse(v ?? '') <= Date.now();
      return false;
    });
    if (value === '' || expired) delete next[name];
    else next[name] = value;
  }
  return next;
}

export function jarHeader(jar: Jar): string {
  return Object.entries(jar)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
}

/**
 * Exchange's CSRF tokens. OWA's scripts copy the X-OWA-CANARY cookie into an X-OWA-CANARY header,
 * ECP's the msExchEcpCanary cookie into the query, and Exchange refuses a POST without them; a page
 * of another site cannot read the cookie. They are no credential (useless without the session), so
 * the browser holds them too: the gateway gives them as Exchange does, and never makes the header
 * itself (that would pass a forged POST).
 */
export const CANARY_COOKIES: ReadonlySet<string> = new Set(['x-owa-canary', 'msexchecpcanary']);

/** Set-Cookie values for the jar's canaries the browser does not hold (or holds stale), readable by its scripts. */
export function canaryCookiesFor(jar: Jar, requestHeaders: readonly HeaderField[]): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(jar)) {
    if (!CANARY_COOKIES.has(name.toLowerCase())) continue;
    if (cookieValues(requestHeaders, name).at(-1) === value) continue;
    out.push(`${name}=${value}; Path=/; Secure; SameSite=Lax`);
  }
  return out;
}

/** Set-Cookie values in a header list. */
export function setCookiesOf(headers: readonly HeaderField[]): string[] {
  return headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value);
}

/** The gateway's own cookie, as the browser gets it (HttpOnly, Secure, SameSite=Lax; no Max-Age: ends with the browser). */
export function sessionCookie(value: string): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

export function expiredCookie(name: string): string {
  return `${name}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0`;
}

/** What a browser's session ends with: the gateway's cookie and Exchange's canaries cleared. */
export function sessionEndCookies(): string[] {
  return [expiredCookie(SESSION_COOKIE), ...['X-OWA-CANARY', 'msExchEcpCanary'].map((name) => `${name}=; Path=/; Secure; SameSite=Lax; Max-Age=0`)];
}
