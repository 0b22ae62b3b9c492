// Exchange's forms-based sign-in (FBA) for OWA and ECP, as Exchange 2013+ does it, so browser
// sign-in at the gateway is tested end to end: GET /owa/ without a session → 302 to
// /owa/auth/logon.aspx; POST /owa/auth.owa (destination, flags, username, password) → 302 to the
// destination with the cadata* cookies and X-OWA-CANARY; requests carrying them are that user's;
// /owa/logoff.owa ends the session. ECP signs in through OWA's pages. Plus the anonymous
// healthcheck.htm every virtual directory answers for load balancers (Managed Availability).
import { randomBytes } from 'node:crypto';
import type { Protocol } from '../vocabulary/protocols.js';
import type { HeaderField } from '../http/headers.js';
import type { LabRequest, LabResponse } from './lab-http.js';
import { type LabState, identityOf } from './lab-context.js';

/** Virtual directories that can use forms-based sign-in. */
export type FormsVdir = 'owa' | 'ecp';

const LOGON = '/owa/auth/logon.aspx';
/** The front end's virtual directories, each with its Managed Availability probe page. */
const HEALTH_PAGE = /^\/(owa|ecp|ews|microsoft-server-activesync|mapi|oab|autodiscover|rpc|powershell|api)\/healthcheck\.htm$/;

/** Reads one cookie of a request (the last one when repeated, as ASP.NET does). */
export function cookieOf(req: LabRequest, name: string): string | undefined {
  let found: string | undefined;
  for (const f of req.head.headers) {
    if (f.name.toLowerCase() !== 'cookie') continue;
    for (const part of f.value.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === name) found = part.slice(eq + 1).trim();
    }
  }
  return found;
}

/** Names of every cookie the request carried. */
export function cookieNames(req: LabRequest): string[] {
  const out: string[] = [];
  for (const f of req.head.headers) {
    if (f.name.toLowerCase() !== 'cookie') continue;
    for (const part of f.value.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0) out.push(part.slice(0, eq).trim());
    }
  }
  return out;
}

/** `/owa/healthcheck.htm` and the other virtual directories' ones: 200 to anyone. */
export function isHealthCheck(path: string): boolean {
  return HEALTH_PAGE.test(path.toLowerCase());
}

export function sendHealthCheck(res: LabResponse): void {
  res.send(200, 'OK', '200 OK<br/>EXCH01.lab.local<br/>', 'text/html');
}

function redirect(res: LabResponse, location: string, cookies: readonly string[] = []): void {
  const headers: HeaderField[] = [{ name: 'Location', value: location }, ...cookies.map((value) => ({ name: 'Set-Cookie', value }))];
  res.send(302, 'Found', `<html><head><title>Object moved</title></head><body><h2>Object moved to <a href="${location}">here</a>.</h2></body></html>`, 'text/html; charset=utf-8', headers);
}

const SESSION_COOKIES = ['cadata', 'cadataKey', 'cadataIV', 'cadataSig', 'cadataTTL'];

function logonUrl(state: LabState, target: string, reason?: number): string {
  const url = `${new URL(state.externalUrl).origin}${target}`;
  return `${LOGON}?replaceCurrent=1${reason !== undefined ? `&reason=${reason}` : ''}&url=${encodeURIComponent(url)}`;
}

/** Only a destination on this server: Exchange refuses to redirect elsewhere after sign-in. */
function destinationPath(raw: string | null): string {
  if (!raw) return '/owa/';
  try {
    const u = new URL(raw, 'https://lab.invalid');
    return u.pathname.startsWith('/') && !u.pathname.startsWith('//') ? `${u.pathname}${u.search}` : '/owa/';
  } catch {
    return '/owa/';
  }
}

async function signIn(state: LabState, req: LabRequest, res: LabResponse): Promise<void> {
  const form = new URLSearchParams((await req.body(64 * 1024)).toString('utf8'));
  const dest = destinationPath(form.get('destination'));
  const name = form.get('username') ?? '';
  const u = state.options.directory.resolveLogon(name);
  if (!u || !u.enabled || u.password === undefined || u.password !== (form.get('password') ?? '')) {
    redirect(res, logonUrl(state, dest, 2));
    return;
  }
  // The right password, expired: Exchange (ChangeExpiredPasswordEnabled) sends the user to change it.
  if (u.passwordExpired) {
    redirect(res, `/owa/auth/expiredpassword.aspx?url=${encodeURIComponent(dest)}&reason=0`);
    return;
  }
  const session = randomBytes(24).toString('base64url');
  state.formsSessions.set(session, identityOf(u));
  const canary = randomBytes(24).toString('base64url');
  const ecpCanary = randomBytes(24).toString('base64url');
  state.formsCanaries.set(session, { owa: canary, ecp: ecpCanary });
  const cookies = [
    `cadata=${session}; path=/; secure; HttpOnly`,
    `cadataKey=${randomBytes(16).toString('base64url')}; path=/; secure; HttpOnly`,
    `cadataIV=${randomBytes(16).toString('base64url')}; path=/; secure; HttpOnly`,
    `cadataSig=${randomBytes(16).toString('base64url')}; path=/; secure; HttpOnly`,
    `cadataTTL=${randomBytes(8).toString('base64url')}; path=/; secure; HttpOnly`,
    `X-OWA-CANARY=${canary}; path=/; secure`,
    `msExchEcpCanary=${ecpCanary}; path=/ecp; secure`,
  ];
  redirect(res, dest, cookies);
}

function signOut(state: LabState, req: LabRequest, res: LabResponse): void {
  const session = cookieOf(req, 'cadata');
  if (session) {
    state.formsSessions.delete(session);
    state.formsCanaries.delete(session);
  }
  const expired = [...SESSION_COOKIES, 'X-OWA-CANARY'].map((c) => `${c}=; expires=Thu, 01-Jan-1970 00:00:00 GMT; path=/`);
  redirect(res, '/owa/auth/logoff.aspx?Cmd=logoff&src=exch', expired);
}

const page440 = '<html><body>The canary is missing or does not match this session.</body></html>';

/**
 * Exchange's CSRF check of a signed-in session's POST: OWA's scripts copy the X-OWA-CANARY cookie
 * into an X-OWA-CANARY header; ECP's put the msExchEcpCanary cookie in the query. A page of another
 * site cannot read the cookie, so it cannot make either.
 */
function canaryMatches(state: LabState, session: string, protocol: Protocol, target: string, req: LabRequest): boolean {
  const canaries = state.formsCanaries.get(session);
  if (!canaries) return false;
  if (protocol === 'owa') return req.header('x-owa-canary') === canaries.owa;
  const q = target.indexOf('?');
  return new URLSearchParams(q >= 0 ? target.slice(q + 1) : '').get('msExchEcpCanary') === canaries.ecp;
}

/**
 * Handles what forms-based sign-in owns on an FBA virtual directory; returns the signed-in user
 * for a request that carries a live session, 'handled' when it answered, or 'pass' (a request with
 * an Authorization header: IIS keeps Basic and Windows authentication on behind FBA).
 */
export async function handleForms(state: LabState, protocol: Protocol, path: string, target: string, req: LabRequest, res: LabResponse): Promise<{ identity: string } | 'handled' | 'pass'> {
  if (req.method === 'POST' && path === '/owa/auth.owa') {
    await signIn(state, req, res);
    return 'handled';
  }
  if (path === '/owa/logoff.owa' || path === '/ecp/logoff.aspx') {
    await req.body();
    signOut(state, req, res);
    return 'handled';
  }
  const session = cookieOf(req, 'cadata');
  const identity = session ? state.formsSessions.get(session) : undefined;
  if (identity) {
    req.identity = identity;
    if (req.method === 'POST' && !canaryMatches(state, session!, protocol, target, req)) {
      await req.body();
      // What Exchange answers a POST without its session's canary: OWA 449 (its scripts then reload), ECP 440.
      if (protocol === 'owa') res.send(449, 'Retry With', '', 'text/html', [{ name: 'X-OWA-Error', value: 'Microsoft.Exchange.Clients.Owa2.Server.Core.OwaInvalidCanary449Exception' }]);
      else res.send(440, 'Login Timeout', page440, 'text/html');
      return 'handled';
    }
    return { identity };
  }
  if (req.header('authorization')) return 'pass';
  await req.body();
  redirect(res, logonUrl(state, protocol === 'ecp' ? '/ecp/' : target));
  return 'handled';
}
