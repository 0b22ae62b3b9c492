// What every admin request must pass before a route sees it, as pure functions. The endpoint acts
// (revoke, unrevoke, unlock, reload), so a web page the admin happens to visit must not be able to
// reach it through the admin's browser:
// - Host must name this endpoint (its address, loopback names, admin.allowedHosts): a DNS
//   rebinding page sends its own name, which is refused (421);
// - Origin, when present, must be the same origin as Host (403);
// - Authorization: Bearer <token> (401), compared in constant time;
// - a POST must be application/json (415): a cross-site page can send text/plain, forms and
//   multipart without a preflight, never JSON.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { modeWarning, parseToken } from './admin-token.js';
import type { ADMIN_REASONS } from '../vocabulary/reasons.js';

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x) and the name localhost. */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (a === 'localhost' || a === '::1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

function isUnspecified(address: string): boolean {
  const a = address.replace(/^\[(.*)\]$/, '$1');
  return a === '0.0.0.0' || (isIP(a) === 6 && /^[0:]+$/.test(a));
}

/** The warning `config check` and the start give for an admin listener off loopback. */
export function adminAddressWarning(admin: { readonly address: string; readonly allowedHosts?: readonly string[]; readonly tls?: unknown }): string | undefined {
  if (isLoopback(admin.address)) return undefined;
  const unnamed = isUnspecified(admin.address) && !admin.allowedHosts?.length;
  // With TLS the token and the console's cookie are protected on the wire; only the names remain.
  if (admin.tls !== undefined) return unnamed ? `admin.address ${admin.address} is not loopback: clients other than this host must be named in admin.allowedHosts` : undefined;
  const names = unnamed ? '; clients other than this host must also be named in admin.allowedHosts' : '';
  return (
    `admin.address ${admin.address} is not loopback and serves no TLS (admin.tls is not set): the admin token, the console's password ` +
    `and session cookie would cross the network in clear text. Set admin.tls, or keep it on 127.0.0.1 (reach it through SSH)${names}`
  );
}

/**
 * The console over plain HTTP, even on loopback: browsers do not keep cookies apart by port, so
 * every web server on this host's address gets the console's session cookie (an outside attack took
 * an operator's session that way from another port of 127.0.0.1). With admin.tls the cookies are
 * Secure: a plain-HTTP server neither gets nor replaces them, and an HTTPS one needs a certificate
 * the operator's browser trusts.
 */
export function consoleCookieWarning(admin: { readonly console?: unknown; readonly tls?: unknown }): string | undefined {
  if (admin.console === undefined || admin.tls !== undefined) return undefined;
  return (
    'admin.console serves over plain HTTP (admin.tls is not set): browsers send its session cookie to every web server on this ' +
    "host's address, whatever its port, so a local user who runs one can take a signed-in session. Set admin.tls where other " +
    'people can run programs on this host'
  );
}

/** The Host values the endpoint answers to. */
export interface AllowedHosts {
  /** `name:port` (lower case, IPv6 in brackets). */
  readonly exact: ReadonlySet<string>;
  /** Names accepted at any port (admin.allowedHosts entries without a port). */
  readonly anyPort: ReadonlySet<string>;
}

const HOST = /^(\[[0-9a-f:.]+\]|[^:[\]\s/@]+)(?::(\d{1,5}))?$/i;

/** Its own address and the loopback names at its port, plus admin.allowedHosts. */
export function allowedHosts(bound: { readonly address: string; readonly port: number }, extra: readonly string[]): AllowedHosts {
  const own = isUnspecified(bound.address) ? [] : [bound.address.includes(':') && !bound.address.startsWith('[') ? `[${bound.address}]` : bound.address];
  const exact = new Set([...own, '127.0.0.1', '[::1]', 'localhost'].map((n) => `${n.toLowerCase()}:${bound.port}`));
  const anyPort = new Set<string>();
  for (const e of extra) {
    const m = HOST.exec(e.trim());
    if (!m) continue;
    if (m[2]) exact.add(`${m[1]!.toLowerCase()}:${Number(m[2])}`);
    else anyPort.add(m[1]!.toLowerCase());
  }
  return { exact, anyPort };
}

/** Whether a request's Host header names this endpoint (absent: no; port absent: 80). */
export function hostAllowed(host: string | undefined, allowed: AllowedHosts): boolean {
  const m = HOST.exec(host ?? '');
  if (!m) return false;
  const name = m[1]!.toLowerCase();
  return allowed.anyPort.has(name) || allowed.exact.has(`${name}:${Number(m[2] ?? 80)}`);
}

/** Absent, or the same origin as Host (over http, or https with admin.tls). `null` is foreign. */
export function originAllowed(origin: string | undefined, host: string, scheme: 'http' | 'https' = 'http'): boolean {
  if (origin === undefined) return true;
  try {
    return new URL(origin).origin === new URL(`${scheme}://${host}`).origin;
  } catch {
    return false;
  }
}

/** A SHA-256 of the token: compared digests have one length, so the compare leaks nothing. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** `Authorization: Bearer <token>` with exactly this token, compared in constant time. */
export function bearerMatches(authorization: string | undefined, digest: Buffer): boolean {
  const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization ?? '');
  const same = timingSafeEqual(tokenDigest(m?.[1] ?? ''), digest);
  return same && m !== null;
}

/** `application/json`, parameters (charset) allowed. */
export function isJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

export interface Refusal {
  readonly status: 400 | 401 | 403 | 415 | 421;
  readonly reason: (typeof ADMIN_REASONS)[number];
  readonly error: string;
}

/** The first check a request fails, or undefined when it may reach its route. */
export function checkRequest(
  req: { readonly method?: string | undefined; readonly url?: string | undefined; readonly headers: Record<string, string | string[] | undefined> },
  allowed: AllowedHosts,
  digest: Buffer,
  scheme: 'http' | 'https' = 'http',
): Refusal | undefined {
  const h = (n: string) => {
    const v = req.headers[n];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  if (!req.url?.startsWith('/') || req.url.startsWith('//')) return { status: 400, reason: 'request-target', error: 'request target must be a path' };
  const host = h('host');
  if (!hostAllowed(host, allowed)) return { status: 421, reason: 'foreign-host', error: 'this admin endpoint is not served under that Host name (add it to admin.allowedHosts if it is yours)' };
  if (!originAllowed(h('origin'), host!, scheme)) return { status: 403, reason: 'foreign-origin', error: 'cross-origin requests to the admin endpoint are refused' };
  if (!bearerMatches(h('authorization'), digest)) return { status: 401, reason: 'admin-token', error: 'admin token required: Authorization: Bearer <the token in admin.tokenFile>' };
  if (req.method === 'POST' && !isJson(h('content-type'))) return { status: 415, reason: 'content-type', error: 'POST bodies must be Content-Type: application/json' };
  return undefined;
}

/**
 * What `config check` says about the admin section: an address off loopback, and a token file
 * that exists but would stop the start or that others can read (a missing one is generated at
 * the first start; one this user cannot read is the gateway user's business).
 */
export function adminConfigWarnings(admin: { readonly address: string; readonly tokenFile: string; readonly allowedHosts?: readonly string[]; readonly tls?: unknown; readonly console?: unknown } | undefined): string[] {
  if (!admin) return [];
  const out: string[] = [];
  const exposed = adminAddressWarning(admin);
  if (exposed) out.push(exposed);
  const cookies = consoleCookieWarning(admin);
  if (cookies) out.push(cookies);
  let text: string | undefined;
  try {
    text = readFileSync(admin.tokenFile, 'utf8');
  } catch {
    return out;
  }
  const t = parseToken(admin.tokenFile, text);
  if (!t.ok) out.push(`the gateway will not start: ${t.error}`);
  const mode = modeWarning(admin.tokenFile);
  if (mode) out.push(mode);
  return out;
}
