// The sign-in page and its form: user name and password, checked by the gateway itself (an LDAP
// bind with the ldap directory; with the file directory, by signing in to Exchange), then the
// policy, then a session. Every failure (unknown user, wrong password, not allowed, locked out)
// gets the same page, byte for byte apart from the form's token, no sooner than `failureTime`
// after the form arrived; the reason goes to the record with the claimed user.
import type { ConnectionContext } from '../forward/connection-context.js';
import { recordBound, recordLoginFailure } from '../forward/connection-record.js';
import type { GateRequest, LocalResult } from '../forward/gate.js';
import type { LoginOutcome } from '../events.js';
import { claimOfLogon } from '../identity/basic.js';
import type { AttemptTicket } from '../policy/login-attempts.js';
import type { ReasonCode } from '../vocabulary/reasons.js';
import { CSRF_COOKIE, expiredCookie, sessionCookie } from './cookie-jar.js';
import { protocolOf, safeDestination } from './destination.js';
import { signInToExchange, signOutOfExchange } from './exchange-signin.js';
import { type SigninDeps, brandOf, endSession, findSession, hostOf, newSessionId } from './signin-deps.js';
import { PAGES, csrfCookie, csrfMatches, htmlResponse, newToken, parseForm, redirectResponse } from './signin-http.js';
import { messagePage, signInPage } from './signin-pages.js';

const FAILED = 'The user name or password is incorrect, or this account may not sign in here.';

/** GET: the page with a fresh double-submit token. */
export function signInPageAnswer(d: SigninDeps, req: GateRequest, message?: string, status = 200, reasons: readonly ReasonCode[] = ['signin-page'], refused = false, detail?: string): LocalResult {
  const cfg = d.config()!;
  const q = new URLSearchParams(req.head.target.split('?')[1] ?? '');
  const destination = safeDestination(q.get('destination'), cfg.protocols);
  return signInPageFor(d, destination, message, status, reasons, refused, detail);
}

function signInPageFor(d: SigninDeps, destination: string, message: string | undefined, status: number, reasons: readonly ReasonCode[], refused: boolean, detail?: string): LocalResult {
  const csrf = newToken();
  const html = signInPage(brandOf(d), { csrf, destination, ...(message ? { message } : {}) });
  return { response: htmlResponse(status, html, [csrfCookie(csrf)]), status, reasons, refused, ...(detail ? { detail } : {}) };
}

/** The right password, expired: only its owner gets here (AD and Exchange say so only to the right password). */
function expired(d: SigninDeps, username: string): LocalResult {
  const url = d.config()!.passwordChangeUrl;
  const text = `Your password has expired. Change it${url ? '' : ' (your helpdesk can tell you how)'}, then sign in with the new password.`;
  const html = messagePage(brandOf(d), 'Password expired', text, url ? { href: url, text: 'Change your password' } : { href: `${PAGES}signin`, text: 'Sign in' });
  return { response: htmlResponse(200, html), status: 200, reasons: ['password-expired'], refused: true, detail: `claimed ${username}: the password is right but expired` };
}

function unavailable(d: SigninDeps, reasons: readonly ReasonCode[], detail: string): LocalResult {
  const html = messagePage(brandOf(d), 'Sign in', 'Signing in is not possible at the moment. Please try again in a few minutes.', { href: `${PAGES}signin`, text: 'Try again' });
  return { response: htmlResponse(503, html), status: 503, reasons, refused: true, detail };
}

function settle(d: SigninDeps, ticket: AttemptTicket | undefined, outcome: 'success' | 'failure' | 'none', key: string): void {
  if (ticket?.settle(outcome)) d.log.warn({ user: key, reasons: ['locked-out'] }, 'smart lockout: external logins of this user are blocked');
}

/** POST: the password form. */
export async function submitSignIn(d: SigninDeps, ctx: ConnectionContext, req: GateRequest, body: Buffer): Promise<LocalResult> {
  const cfg = d.config()!;
  const started = Date.now();
  const form = parseForm(body);
  const destination = safeDestination(form.get('destination'), cfg.protocols);
  if (!csrfMatches(req.head.headers, form.get('csrf'))) return signInPageFor(d, destination, 'The sign-in form had expired. Please sign in again.', 403, ['csrf-failed'], true, 'the form token did not match its cookie');
  const protocol = protocolOf(destination, cfg.protocols);
  const username = (form.get('username') ?? '').trim().slice(0, 256);
  const password = form.get('password') ?? '';
  ctx.claim = { claimed: username || undefined, user: undefined, scheme: 'Forms' };
  const fail = async (reasons: readonly ReasonCode[], outcome?: LoginOutcome, detail?: string): Promise<LocalResult> => {
    recordLoginFailure(ctx, protocol, reasons, outcome);
    const wait = started + cfg.failureTime - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return signInPageFor(d, destination, FAILED, 200, reasons, true, detail ?? `claimed ${username}`);
  };
  const claim = claimOfLogon(username);
  if (!claim || password === '') return fail(['malformed-credentials'], 'malformed');
  const directory = d.access.state().directory;
  const found = await directory.lookup(claim);
  if (found.status === 'unavailable') return unavailable(d, ['directory-unavailable'], found.reason);
  if (found.status !== 'found') return fail([found.status === 'unknown-domain' ? 'unknown-domain' : 'unknown-user']);
  const entry = found.entry;
  ctx.claim = { claimed: username, user: entry.key, scheme: 'Forms' };
  const decision = d.access.evaluate({ kind: 'user', entry }, protocol, ctx);
  if (!decision.allow) return fail(decision.reasons);
  const slot = ctx.zone === 'external' ? await d.attempts.reserve(entry.key) : { ok: true as const, ticket: undefined };
  if (!slot.ok) return fail([slot.reason]);
  const host = hostOf(req.head.headers);
  const logon = `${entry.domain}\\${entry.sam}`;
  if (directory.verifyPassword) {
    const v = await directory.verifyPassword(entry, password);
    if (v === 'unavailable') {
      settle(d, slot.ticket, 'none', entry.key);
      return unavailable(d, ['directory-unavailable'], 'password check unavailable');
    }
    if (v === 'bad-password') {
      settle(d, slot.ticket, 'failure', entry.key);
      return fail(['bad-password']);
    }
    if (v === 'expired') {
      settle(d, slot.ticket, 'none', entry.key);
      return expired(d, username);
    }
  }
  const signedIn = await signInToExchange(d.upstream(), cfg, host, logon, password);
  if (!signedIn.ok) {
    // Without an LDAP bind, Exchange's refusal is the password check: a failure for the lockout.
    if (signedIn.why === 'refused' && !directory.verifyPassword) {
      settle(d, slot.ticket, 'failure', entry.key);
      return fail(['bad-password'], 'refused-by-exchange');
    }
    if (signedIn.why === 'expired') {
      settle(d, slot.ticket, 'none', entry.key);
      return expired(d, username);
    }
    settle(d, slot.ticket, directory.verifyPassword ? 'success' : 'none', entry.key);
    d.log.warn({ user: entry.key, detail: signedIn.detail }, 'signing in to Exchange on behalf of a browser failed');
    // Without an LDAP bind nothing proved the password yet: the page must not tell this user (who
    // passed the directory and the policy) from one who does not exist, so it is the failure page.
    if (!directory.verifyPassword) return fail(['exchange-signin-failed'], undefined, `claimed ${username}: ${signedIn.detail}`);
    return unavailable(d, ['exchange-signin-failed'], signedIn.detail);
  }
  settle(d, slot.ticket, 'success', entry.key);
  const needsFactor = decision.secondFactor === true;
  if (needsFactor && !d.secondFactor) {
    void signOutOfExchange(d.upstream(), host, signedIn.credential).catch(() => {});
    return unavailable(d, ['second-factor-unavailable'], 'a policy rule asks for a second factor and none is configured');
  }
  // A session the browser brought along (another user's, or one an attacker planted) ends here:
  // the signed-in session is always a new one (no session fixation).
  const previous = await findSession(d, req.head.headers);
  if (previous) await endSession(d, previous, host, 'replaced by a new sign-in');
  const { cookie, id } = newSessionId();
  const now = Date.now();
  await d.sessions.put({
    id,
    userKey: entry.key,
    claimed: username,
    stage: needsFactor ? 'second-factor' : 'signed-in',
    secondFactor: false,
    exchange: d.seal.seal(JSON.stringify(signedIn.credential), entry.key),
    destination,
    csrf: newToken(),
    createdAt: now,
    lastSeenAt: now,
    failures: 0,
  });
  if (!needsFactor) recordBound(ctx, protocol, entry.key, 'Forms');
  const location = needsFactor ? `${PAGES}second-factor` : destination;
  return { response: redirectResponse(location, [sessionCookie(cookie), expiredCookie(CSRF_COOKIE)]), status: 302, reasons: needsFactor ? ['second-factor-required'] : ['signed-in'], refused: false, detail: `signed in as ${entry.key}` };
}
