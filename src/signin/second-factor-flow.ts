// The second factor after the password, where a policy rule asks for one: TOTP (enrolled at the
// first sign-in: QR code and the key as text), or a passkey the user registered after a TOTP
// sign-in. The session waits in stage `second-factor` (nothing of it reaches Exchange) and gets a
// new id once the factor is given. Wrong codes count for the smart lockout like wrong passwords,
// and five in one session end it.
import type { ConnectionContext } from '../forward/connection-context.js';
import { recordBound, recordLoginFailure } from '../forward/connection-record.js';
import type { GateRequest, LocalResult } from '../forward/gate.js';
import type { ReasonCode } from '../vocabulary/reasons.js';
import { events } from '../events.js';
import type { RelyingParty } from './second-factor.js';
import type { SigninSession } from './session-store.js';
import { sessionCookie, sessionEndCookies } from './cookie-jar.js';
import { protocolOf } from './destination.js';
import { type SigninDeps, brandOf, endSession, hostOf, newSessionId } from './signin-deps.js';
import { htmlResponse, jsonResponse, parseForm, redirectResponse, sameToken, signinUrl } from './signin-http.js';
import { secondFactorPage } from './signin-pages.js';

const MAX_FAILURES = 5;

function recordEnrolled(ctx: ConnectionContext, user: string, method: 'totp' | 'passkey'): void {
  if (events.secondFactorEnrolled.hasSubscribers) events.secondFactorEnrolled.publish({ at: Date.now(), user, method, clientIp: ctx.remoteAddress, zone: ctx.zone });
}

export function relyingParty(d: SigninDeps, req: GateRequest): RelyingParty {
  const host = hostOf(req.head.headers);
  return { id: host.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''), origin: `https://${host}`, name: d.config()!.organisation };
}

function page(html: string, status: number, reasons: readonly ReasonCode[], refused: boolean, detail?: string): LocalResult {
  return { response: htmlResponse(status, html), status, reasons, refused, ...(detail ? { detail } : {}) };
}

/** The page: the code form, with enrolment when the user has no TOTP yet. */
export async function secondFactorAnswer(d: SigninDeps, s: SigninSession, message?: string, reasons: readonly ReasonCode[] = ['second-factor-required'], refused = false): Promise<LocalResult> {
  const sf = d.secondFactor!;
  const enrolment = await sf.enrolment(s.userKey);
  const cfg = d.config()!;
  const enrol = enrolment.totp ? undefined : await sf.startTotp(s.userKey, s.userKey, cfg.organisation);
  const html = secondFactorPage(brandOf(d), { csrf: s.csrf, passkeys: enrolment.passkeys.length > 0, ...(message ? { message } : {}), ...(enrol ? { enrol: { qrSvg: enrol.qrSvg, secret: enrol.secret } } : {}) });
  return page(html, 200, reasons, refused);
}

/** The factor was given: a new session id (the one that waited is dropped), then the destination. */
async function promote(d: SigninDeps, ctx: ConnectionContext, s: SigninSession, via: string): Promise<{ cookie: string; location: string }> {
  const { cookie, id } = newSessionId();
  const now = Date.now();
  await d.sessions.put({ ...s, id, stage: 'signed-in', secondFactor: true, lastSeenAt: now, failures: 0 });
  await d.sessions.delete(s.id);
  ctx.claim = { claimed: s.claimed, user: s.userKey, scheme: 'Forms' };
  recordBound(ctx, protocolOf(s.destination, d.config()!.protocols), s.userKey, 'Forms');
  d.log.info({ user: s.userKey, via }, 'browser signed in with a second factor');
  return { cookie, location: s.destination };
}

/** A wrong factor: counted for the session and, from outside, for the user's smart lockout. */
async function failed(d: SigninDeps, ctx: ConnectionContext, req: GateRequest, s: SigninSession, reasons: readonly ReasonCode[]): Promise<boolean> {
  ctx.claim = { claimed: s.claimed, user: s.userKey, scheme: 'Forms' };
  recordLoginFailure(ctx, protocolOf(s.destination, d.config()!.protocols), reasons, 'bad-password');
  if (ctx.zone === 'external') {
    const slot = await d.attempts.reserve(s.userKey);
    if (slot.ok && slot.ticket.settle('failure')) d.log.warn({ user: s.userKey, reasons: ['locked-out'] }, 'smart lockout: external logins of this user are blocked');
  }
  if ((await d.sessions.addFailure(s.id)) < MAX_FAILURES) return false;
  await endSession(d, s, hostOf(req.head.headers), 'too many wrong second-factor codes');
  return true;
}

/** POST of the code form (TOTP, or confirming a new enrolment). */
export async function submitSecondFactor(d: SigninDeps, ctx: ConnectionContext, req: GateRequest, s: SigninSession, body: Buffer): Promise<LocalResult> {
  const form = parseForm(body);
  if (!sameToken(form.get('csrf'), s.csrf)) return secondFactorAnswer(d, s, 'The form had expired. Please try again.', ['csrf-failed'], true);
  const code = (form.get('code') ?? '').replace(/\s/g, '');
  const sf = d.secondFactor!;
  const enrolling = form.get('mode') === 'enrol';
  const r = enrolling ? await sf.confirmTotp(s.userKey, code) : await sf.verifyTotp(s.userKey, code);
  if (r === 'ok') {
    if (enrolling) recordEnrolled(ctx, s.userKey, 'totp');
    const p = await promote(d, ctx, s, 'totp');
    return { response: redirectResponse(p.location, [sessionCookie(p.cookie)]), status: 302, reasons: ['second-factor-ok'], refused: false, detail: `signed in as ${s.userKey}` };
  }
  if (r === 'not-enrolled' || r === 'no-pending') return secondFactorAnswer(d, s, 'Please set up your authenticator app first.');
  const reasons: ReasonCode[] = r === 'replayed' ? ['second-factor-replayed'] : ['second-factor-failed'];
  if (await failed(d, ctx, req, s, reasons)) {
    return { response: redirectResponse(signinUrl(s.destination), sessionEndCookies()), status: 302, reasons, refused: true, detail: 'too many wrong codes' };
  }
  const message = r === 'replayed' ? 'That code was already used. Wait for the next code and enter it.' : 'That code is not right. Please try again.';
  return secondFactorAnswer(d, s, message, reasons, true);
}

/** The passkey endpoints (JSON, token in X-Portcullis-CSRF): options and the signed assertion. */
export async function passkeySignIn(d: SigninDeps, ctx: ConnectionContext, req: GateRequest, s: SigninSession, step: 'options' | 'verify', body: Buffer): Promise<LocalResult> {
  const json = (status: number, v: unknown, reasons: readonly ReasonCode[], refused: boolean, cookies: string[] = []): LocalResult => ({ response: jsonResponse(status, v, cookies), status, reasons, refused });
  const sf = d.secondFactor!;
  const rp = relyingParty(d, req);
  if (step === 'options') {
    const o = await sf.passkeyAuthenticationOptions(s.userKey, rp);
    return o ? json(200, o, ['second-factor-required'], false) : json(404, { error: 'no passkey' }, ['second-factor-required'], false);
  }
  let assertion: unknown;
  try {
    assertion = JSON.parse(body.toString('utf8'));
  } catch {
    return json(400, { error: 'not JSON' }, ['second-factor-failed'], true);
  }
  const ok = await sf.verifyPasskeyAuthentication(s.userKey, assertion as Parameters<typeof sf.verifyPasskeyAuthentication>[1], rp);
  if (ok === 'ok') {
    const p = await promote(d, ctx, s, 'passkey');
    return json(200, { location: p.location }, ['second-factor-ok'], false, [sessionCookie(p.cookie)]);
  }
  await failed(d, ctx, req, s, ['second-factor-failed']);
  return json(400, { error: 'the passkey was not accepted' }, ['second-factor-failed'], true);
}

/** Registering a passkey, for a session that gave its second factor. */
export async function passkeyRegister(d: SigninDeps, ctx: ConnectionContext, req: GateRequest, s: SigninSession, step: 'options' | 'verify', body: Buffer): Promise<LocalResult> {
  const json = (status: number, v: unknown, refused = false): LocalResult => ({ response: jsonResponse(status, v), status, reasons: ['session-ok'], refused });
  const sf = d.secondFactor!;
  const rp = relyingParty(d, req);
  if (step === 'options') return json(200, await sf.passkeyRegistrationOptions(s.userKey, s.userKey, rp));
  let input: { name?: unknown; response?: unknown };
  try {
    input = JSON.parse(body.toString('utf8')) as typeof input;
  } catch {
    return json(400, { error: 'not JSON' }, true);
  }
  const name = typeof input.name === 'string' && input.name.trim() !== '' ? input.name.trim().slice(0, 60) : 'Passkey';
  const ok = await sf.verifyPasskeyRegistration(s.userKey, input.response as Parameters<typeof sf.verifyPasskeyRegistration>[1], name, rp);
  if (ok === 'ok') recordEnrolled(ctx, s.userKey, 'passkey');
  return ok === 'ok' ? json(200, { ok: true }) : json(400, { error: 'the passkey could not be registered' }, true);
}

