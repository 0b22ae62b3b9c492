// The gateway's own pages under /owa/auth/portcullis/ (sign-in, second factor, passkeys,
// sign-out, style sheet, script, logo), answered by the gateway in the zones `signin.zones` names.
// It runs before the edge gate: these paths are not Exchange's and never reach it.
import type { ConnectionContext } from '../forward/connection-context.js';
import type { GateRequest, GateVerdict, LocalResult, RequestGate } from '../forward/gate.js';
import type { SigninSession } from './session-store.js';
import { sessionEndCookies } from './cookie-jar.js';
import { passkeyRegister, passkeySignIn, secondFactorAnswer, submitSecondFactor } from './second-factor-flow.js';
import { type SigninDeps, brandOf, endSession, findSession, hostOf } from './signin-deps.js';
import { PASSKEY_JS, STYLE_CSS } from './signin-assets.js';
import { PAGES, htmlResponse, jsonResponse, parseForm, redirectResponse, response, sameToken, signinUrl } from './signin-http.js';
import { signInPageAnswer, submitSignIn } from './signin-form.js';
import { messagePage, passkeysPage } from './signin-pages.js';
import { headerValue } from '../http/headers.js';
import { isFormsSignInPath } from '../forward/exchange-session-cookies.js';
import { toSignIn } from './session-gate.js';

/** Largest body a sign-in page accepts (a passkey assertion is the largest, a few KiB). */
const MAX_BODY = 64 * 1024;

function local(head: boolean, answer: (body: Buffer) => Promise<LocalResult>): GateVerdict {
  // A HEAD gets the head alone (its Content-Length still says what a GET would get).
  const cut = (r: LocalResult): LocalResult => (head ? { ...r, response: r.response.subarray(0, r.response.indexOf('\r\n\r\n') + 4) } : r);
  return { allow: false, status: 200, reason: 'signin-page', message: 'answered by the gateway', local: { maxBody: MAX_BODY, answer: async (body) => cut(await answer(body)) } };
}

const done = (response: Buffer, status: number, reasons: LocalResult['reasons'] = ['signin-page'], refused = false): LocalResult => ({ response, status, reasons, refused });

/** Signs the browser out: the gateway's session and Exchange's behind it. */
export async function signOut(d: SigninDeps, req: GateRequest, s: SigninSession | undefined): Promise<LocalResult> {
  if (s) await endSession(d, s, hostOf(req.head.headers), 'signed out');
  const html = messagePage(brandOf(d), 'Signed out', 'You have signed out.', { href: signinUrl(`/${d.config()!.protocols[0]}/`), text: 'Sign in again' });
  return { response: htmlResponse(200, html, sessionEndCookies()), status: 200, reasons: ['signed-out'], refused: false, ...(s ? { detail: `${s.userKey} signed out` } : {}) };
}

async function route(d: SigninDeps, ctx: ConnectionContext, req: GateRequest, page: string, body: Buffer): Promise<LocalResult> {
  const method = req.head.method;
  const get = method === 'GET' || method === 'HEAD';
  if (get && page === 'style.css') return done(response(200, 'text/css; charset=utf-8', Buffer.from(STYLE_CSS)), 200);
  if (get && page === 'passkey.js') return done(response(200, 'text/javascript; charset=utf-8', Buffer.from(PASSKEY_JS)), 200);
  if (get && page === 'logo' && d.logo()) return done(response(200, d.logo()!.type, d.logo()!.bytes), 200);
  if (page === 'signin') return get ? signInPageAnswer(d, req) : method === 'POST' ? submitSignIn(d, ctx, req, body) : notFound(d);
  const s = await findSession(d, req.head.headers);
  if (page === 'signout' && method === 'POST') {
    // The session's own token: another site cannot sign the user out.
    if (s && !sameToken(parseForm(body).get('csrf'), s.csrf)) return done(htmlResponse(403, messagePage(brandOf(d), 'Sign out', 'The form had expired.')), 403, ['csrf-failed'], true);
    return signOut(d, req, s);
  }
  if (!s) return done(redirectResponse(signinUrl(`/${d.config()!.protocols[0]}/`), sessionEndCookies()), 302, ['signin-required']);
  const json = method === 'POST' && page.startsWith('passkey/');
  if (json && !sameToken(headerValue(req.head.headers, 'x-portcullis-csrf'), s.csrf)) return done(jsonResponse(403, { error: 'bad token' }), 403, ['csrf-failed'], true);
  if (!d.secondFactor) return done(htmlResponse(503, messagePage(brandOf(d), 'Second factor', 'The second factor is not available.')), 503, ['second-factor-unavailable'], true);
  if (s.stage === 'second-factor') {
    if (page === 'second-factor') return get ? secondFactorAnswer(d, s) : method === 'POST' ? submitSecondFactor(d, ctx, req, s, body) : notFound(d);
    if (json && page === 'passkey/options') return passkeySignIn(d, ctx, req, s, 'options', body);
    if (json && page === 'passkey/verify') return passkeySignIn(d, ctx, req, s, 'verify', body);
    return done(redirectResponse(`${PAGES}second-factor`), 302, ['second-factor-required']);
  }
  // Signed in: passkeys may be added once a second factor was given in this session.
  if (page === 'second-factor') return done(redirectResponse(s.destination), 302, ['session-ok']);
  if (!s.secondFactor) return notFound(d);
  if (get && page === 'passkeys') {
    const e = await d.secondFactor.enrolment(s.userKey);
    return done(htmlResponse(200, passkeysPage(brandOf(d), { csrf: s.csrf, passkeys: e.passkeys, destination: s.destination })), 200, ['session-ok']);
  }
  // Adding a sign-in method is a step-up: only soon after the password and second factor were given.
  if (json && page.startsWith('passkey/register') && Date.now() - s.createdAt > d.config()!.addPasskeyWithin) {
    return done(jsonResponse(403, { error: 'Sign in again to add a passkey.' }), 403, ['second-factor-required'], true);
  }
  if (json && page === 'passkey/register-options') return passkeyRegister(d, ctx, req, s, 'options', body);
  if (json && page === 'passkey/register') return passkeyRegister(d, ctx, req, s, 'verify', body);
  return notFound(d);
}

function notFound(d: SigninDeps): LocalResult {
  return done(htmlResponse(404, messagePage(brandOf(d), 'Not found', 'There is no such page.')), 404);
}

/** The gate before the edge gate: the gateway's pages, in the sign-in zones. */
export function signinPagesGate(d: SigninDeps): RequestGate {
  return {
    name: 'signin',
    check(ctx, req) {
      const cfg = d.config();
      if (!cfg || !cfg.zones.includes(ctx.zone)) return { allow: true };
      // Exchange's own forms sign-in (an old bookmark, a script): the gateway's page instead.
      if (isFormsSignInPath(req.path)) return toSignIn(`/${cfg.protocols[0]}/`, ['signin-required'], false, `${req.path} is the gateway's sign-in here`);
      if (!req.path.startsWith(PAGES)) return { allow: true };
      const page = req.path.slice(PAGES.length);
      return local(req.head.method === 'HEAD', (body) => route(d, ctx, req, page, body));
    },
  };
}
