// Requests of a signed-in browser: the gateway's session is looked up in the store (any worker or
// instance may have issued it), checked against the policy and revocation on every request, and
// the request goes to Exchange with Exchange's session (cookies, or Basic) instead of the
// gateway's cookie; Exchange's Set-Cookie never reaches the browser, but for its canaries (its pages'
// scripts read them to prove a request came from its pages). A session is proof of the
// user because the gateway verified the password (and the second factor) itself, so it binds the
// connection's identity (src/policy/proof.ts).
import type { ConnectionContext } from '../forward/connection-context.js';
import { recordBound } from '../forward/connection-record.js';
import type { GateRequest, GateVerdict, LocalResult } from '../forward/gate.js';
import { refusalFor } from '../forward/refusals.js';
import type { HeaderField } from '../http/headers.js';
import { deny } from '../policy/decision.js';
import type { ReasonCode } from '../vocabulary/reasons.js';
import type { SigninSession } from './session-store.js';
import { CANARY_COOKIES, applySetCookies, canaryCookiesFor, jarHeader, sessionEndCookies, setCookiesOf, withoutGatewayCookies } from './cookie-jar.js';
import { type SigninDeps, endSession, hostOf, openCredential } from './signin-deps.js';
import { PAGES, redirectResponse, signinUrl } from './signin-http.js';

/** How often a session's last use is written at most (the idle time-out is that much coarser, and never more than a quarter). */
const TOUCH_EVERY_MS = 30_000;

/** A page answer that sends the browser to the sign-in page, its cookie cleared. */
export function toSignIn(target: string, reasons: readonly ReasonCode[], refused: boolean, detail: string): GateVerdict {
  const response = redirectResponse(signinUrl(target), sessionEndCookies());
  const result: LocalResult = { response, status: 302, reasons, refused, detail };
  return { allow: false, status: 302, reason: reasons[0] ?? 'signin-required', reasons, message: detail, local: { maxBody: 64 * 1024, answer: async () => result } };
}

/** The request of a browser that presented a gateway session (`s`: the one found, if any). */
export async function sessionVerdict(d: SigninDeps, ctx: ConnectionContext, req: GateRequest, s: SigninSession | undefined): Promise<GateVerdict> {
  const cfg = d.config()!;
  const target = req.head.method === 'GET' ? req.head.target : `/${req.protocol}/`;
  const host = hostOf(req.head.headers);
  if (!s) return toSignIn(target, ['session-unknown'], true, 'a session cookie the gateway does not know (forged, old or signed out)');
  const now = Date.now();
  if (now - s.lastSeenAt > cfg.idleTimeout || now - s.createdAt > cfg.absoluteTimeout) {
    await endSession(d, s, host, 'time-out');
    return toSignIn(target, ['session-expired'], false, `session of ${s.userKey} timed out`);
  }
  if (s.stage !== 'signed-in') {
    const response = redirectResponse(`${PAGES}second-factor`);
    return { allow: false, status: 302, reason: 'second-factor-required', message: 'second factor still owed', local: { maxBody: 64 * 1024, answer: async () => ({ response, status: 302, reasons: ['second-factor-required'], refused: false }) } };
  }
  // A connection Exchange already serves as one user never carries another's session.
  if (ctx.identity && ctx.identity.entry?.key.toLowerCase() !== s.userKey.toLowerCase()) {
    return { allow: false, ...refusalFor(req.protocol, 403, deny(['identity-mismatch']), `connection proven as ${ctx.identity.entry?.key ?? 'a Kerberos client'}, session of ${s.userKey}`) };
  }
  const [domain, sam] = s.userKey.split('\\') as [string, string];
  const found = await d.access.state().directory.lookup({ domain, user: sam });
  if (found.status === 'unavailable') return { allow: false, ...refusalFor(req.protocol, 503, deny(['directory-unavailable']), found.reason) };
  if (found.status !== 'found') {
    await endSession(d, s, host, 'user no longer in the directory');
    return toSignIn(target, ['unknown-user'], true, `session of ${s.userKey}`);
  }
  const entry = found.entry;
  ctx.claim = { claimed: s.claimed, user: entry.key, scheme: 'Forms' };
  const decision = d.access.evaluate({ kind: 'user', entry }, req.protocol, ctx);
  if (!decision.allow) {
    await endSession(d, s, host, decision.reasons.join(', '));
    return toSignIn(target, decision.reasons, true, `session of ${s.userKey} no longer allowed`);
  }
  if (decision.secondFactor && !s.secondFactor) {
    // Step-up: this request needs a second factor the session has not given (ECP after OWA).
    if (!d.secondFactor) return { allow: false, ...refusalFor(req.protocol, 403, { reasons: ['second-factor-unavailable'] }) };
    await d.sessions.put({ ...s, stage: 'second-factor', destination: target });
    const response = redirectResponse(`${PAGES}second-factor`);
    return { allow: false, status: 302, reason: 'second-factor-required', message: 'step-up', local: { maxBody: 64 * 1024, answer: async () => ({ response, status: 302, reasons: ['second-factor-required'], refused: false }) } };
  }
  const credential = openCredential(d, s);
  const method = cfg.exchangeSignIn[req.protocol as 'owa' | 'ecp'];
  if (!credential || (method === 'forms' && !credential.jar) || (method === 'basic' && !credential.basic)) {
    await endSession(d, s, host, 'no usable Exchange session (key or settings changed)');
    return toSignIn(target, ['exchange-session-ended'], false, `session of ${s.userKey}`);
  }
  if (now - s.lastSeenAt > Math.min(TOUCH_EVERY_MS, cfg.idleTimeout / 4)) await d.sessions.touch(s.id, now);
  const fresh = ctx.identity === undefined;
  ctx.identity = { kind: 'user', entry, via: 'Forms', at: now };
  if (fresh) recordBound(ctx, req.protocol, entry.key, 'Forms');
  let jar = credential.jar ?? {};
  return {
    allow: true,
    decision,
    requestHeaders: (headers) => upstreamHeaders(headers, method, jar, credential.basic),
    onResponse: (h) => {
      const set = setCookiesOf(h.headers);
      if (set.length > 0 && method === 'forms') {
        // Exchange renewed its cookies (or its canary): the gateway keeps them, the browser sees only the canaries.
        jar = applySetCookies(jar, set);
        void d.sessions.touch(s.id, Date.now(), d.seal.seal(JSON.stringify({ ...credential, jar }), s.userKey)).catch(() => {});
      }
      const canaries = method === 'forms' ? canaryCookiesFor(jar, req.head.headers) : [];
      const location = h.headers.find((f) => f.name.toLowerCase() === 'location')?.value ?? '';
      if ((method === 'forms' && h.status === 302 && /logon\.aspx/i.test(location)) || (method === 'basic' && h.status === 401)) {
        void endSession(d, s, host, "Exchange's session ended").catch(() => {});
        return { pass: false, refusal: { status: 302, reason: 'exchange-session-ended', message: `Exchange ended the session of ${s.userKey}`, response: redirectResponse(signinUrl(target), sessionEndCookies()) } };
      }
      if (set.length === 0 && canaries.length === 0) return { pass: true };
      return { pass: true, headers: [...h.headers.filter((f) => f.name.toLowerCase() !== 'set-cookie'), ...canaries.map((value) => ({ name: 'Set-Cookie', value }))] };
    },
  };
}

/** The browser's fields for Exchange: the gateway's cookies out, Exchange's session in. */
function upstreamHeaders(headers: readonly HeaderField[], method: 'forms' | 'basic', jar: Record<string, string>, basic: string | undefined): HeaderField[] {
  if (method === 'basic') {
    return [...withoutGatewayCookies(headers).filter((f) => f.name.toLowerCase() !== 'authorization'), { name: 'Authorization', value: `Basic ${basic}` }];
  }
  // The canary header or query OWA's and ECP's scripts make goes on as they made it: Exchange's CSRF check stays Exchange's.
  return withoutGatewayCookies(headers, jarHeader(jar), CANARY_COOKIES);
}
