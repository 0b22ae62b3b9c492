// The answers the gateway's sign-in pages give, with the headers every one of them carries: a
// strict Content-Security-Policy (no inline script, nothing from elsewhere), no framing, no
// caching, no referrer. The connection closes after each (src/forward/local-answers.ts).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { HeaderField } from '../http/headers.js';
import { serializeHead } from '../http/serialize.js';
import { statusPhrase } from '../http/status-phrases.js';
import { CSRF_COOKIE, cookieValues } from './cookie-jar.js';

/** Where the gateway's own pages live: under OWA's anonymous auth folder, answered by the gateway. */
export const PAGES = '/owa/auth/portcullis/';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const SECURITY: readonly HeaderField[] = [
  { name: 'Content-Security-Policy', value: CSP },
  { name: 'X-Frame-Options', value: 'DENY' },
  { name: 'X-Content-Type-Options', value: 'nosniff' },
  { name: 'Referrer-Policy', value: 'no-referrer' },
  { name: 'Cache-Control', value: 'no-store' },
];

export function response(status: number, type: string | undefined, body: Buffer, cookies: readonly string[] = [], extra: readonly HeaderField[] = []): Buffer {
  const headers: HeaderField[] = [
    ...SECURITY,
    ...extra,
    ...cookies.map((value) => ({ name: 'Set-Cookie', value })),
    ...(type ? [{ name: 'Content-Type', value: type }] : []),
    { name: 'Content-Length', value: String(body.length) },
    { name: 'Connection', value: 'close' },
  ];
  return Buffer.concat([serializeHead(`HTTP/1.1 ${status} ${statusPhrase(status)}`, headers), body]);
}

export function htmlResponse(status: number, html: string, cookies: readonly string[] = []): Buffer {
  return response(status, 'text/html; charset=utf-8', Buffer.from(html, 'utf8'), cookies);
}

export function redirectResponse(location: string, cookies: readonly string[] = []): Buffer {
  return response(302, undefined, Buffer.alloc(0), cookies, [{ name: 'Location', value: location }]);
}

export function jsonResponse(status: number, value: unknown, cookies: readonly string[] = []): Buffer {
  return response(status, 'application/json', Buffer.from(JSON.stringify(value), 'utf8'), cookies);
}

/** The sign-in page's address for a destination. */
export function signinUrl(destination: string): string {
  return `${PAGES}signin?destination=${encodeURIComponent(destination)}`;
}

/** A form body (application/x-www-form-urlencoded). */
export function parseForm(body: Buffer): URLSearchParams {
  return new URLSearchParams(body.toString('utf8'));
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The double-submit cookie of the sign-in form: __Host- (this host only, Secure), SameSite=Strict. */
export function csrfCookie(token: string): string {
  return `${CSRF_COOKIE}=${token}; Path=/; Secure; HttpOnly; SameSite=Strict`;
}

export function sameToken(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The sign-in form's token matches the cookie the sign-in page set (one of them, if several). */
export function csrfMatches(headers: readonly HeaderField[], submitted: string | null): boolean {
  return cookieValues(headers, CSRF_COOKIE).some((c) => sameToken(c, submitted));
}
