// Signing a user in to Exchange on their behalf, and out again. Forms-based: POST /owa/auth.owa
// as the browser would, keeping the cadata cookies of the 302 (a 302 back to logon.aspx with
// reason=2 is a wrong password). Basic: the password itself goes with every request, checked here
// once with a GET of the virtual directory (401: wrong password).
import type { UpstreamTarget } from '../forward/upstream-connect.js';
import type { SigninConfig, SigninProtocol } from './signin-schema.js';
import { callExchange } from '../forward/exchange-client.js';
import { type Jar, applySetCookies, jarHeader } from './cookie-jar.js';

/** What the gateway keeps of Exchange's for a session (sealed in the store). */
export interface ExchangeCredential {
  /** Exchange's forms-based session cookies. */
  readonly jar?: Jar;
  /** base64 of `DOMAIN\user:password`, for virtual directories that use Basic. */
  readonly basic?: string;
}

export type ExchangeSignIn = { readonly ok: true; readonly credential: ExchangeCredential } | { readonly ok: false; readonly why: 'refused' | 'expired' | 'unavailable'; readonly detail: string };

const TIMEOUT_MS = 15_000;

/** Which ways the configured virtual directories need. */
function methods(cfg: SigninConfig): { forms: boolean; basic: SigninProtocol | undefined } {
  return { forms: cfg.protocols.some((p) => cfg.exchangeSignIn[p] === 'forms'), basic: cfg.protocols.find((p) => cfg.exchangeSignIn[p] === 'basic') };
}

async function formsSignIn(target: UpstreamTarget, host: string, logon: string, password: string): Promise<ExchangeSignIn> {
  const body = new URLSearchParams({ destination: `https://${host}/owa/`, flags: '4', forcedownlevel: '0', username: logon, password, passwordText: '', isUtf8: '1' }).toString();
  const a = await callExchange(target, { method: 'POST', path: '/owa/auth.owa', host, body }, TIMEOUT_MS);
  const jar = applySetCookies({}, a.setCookies);
  if (a.status === 302 && jar['cadata'] !== undefined && !/[?&]reason=/i.test(a.location ?? '')) return { ok: true, credential: { jar } };
  if (a.status === 302 && /logon\.aspx/i.test(a.location ?? '')) return { ok: false, why: 'refused', detail: 'Exchange refused the forms-based sign-in' };
  // Exchange sends only the owner of the right password to change an expired one.
  if (a.status === 302 && /\/expiredpassword\.aspx/i.test(a.location ?? '')) return { ok: false, why: 'expired', detail: 'Exchange says the password has expired' };
  return { ok: false, why: 'unavailable', detail: `Exchange answered the forms-based sign-in with ${a.status}` };
}

async function basicCheck(target: UpstreamTarget, host: string, protocol: SigninProtocol, basic: string): Promise<ExchangeSignIn> {
  const a = await callExchange(target, { method: 'GET', path: `/${protocol}/`, host, headers: { Authorization: `Basic ${basic}` } }, TIMEOUT_MS);
  if (a.status === 401) return { ok: false, why: 'refused', detail: `Exchange refused Basic on /${protocol}/` };
  if (a.status >= 500) return { ok: false, why: 'unavailable', detail: `Exchange answered Basic on /${protocol}/ with ${a.status}` };
  return { ok: true, credential: { basic } };
}

/** Signs `logon` (DOMAIN\user) in to every configured virtual directory's way. */
export async function signInToExchange(target: UpstreamTarget, cfg: SigninConfig, host: string, logon: string, password: string): Promise<ExchangeSignIn> {
  const m = methods(cfg);
  try {
    let credential: ExchangeCredential = {};
    if (m.forms) {
      const f = await formsSignIn(target, host, logon, password);
      if (!f.ok) return f;
      credential = f.credential;
    }
    if (m.basic) {
      const basic = Buffer.from(`${logon}:${password}`, 'utf8').toString('base64');
      const b = await basicCheck(target, host, m.basic, basic);
      if (!b.ok) return b;
      credential = { ...credential, basic };
    }
    return { ok: true, credential };
  } catch (e) {
    return { ok: false, why: 'unavailable', detail: (e as Error).message };
  }
}

/** Ends Exchange's forms-based session (GET /owa/logoff.owa with its cookies); errors are the caller's to log. */
export async function signOutOfExchange(target: UpstreamTarget, host: string, credential: ExchangeCredential): Promise<void> {
  if (!credential.jar) return;
  await callExchange(target, { method: 'GET', path: '/owa/logoff.owa', host, headers: { Cookie: jarHeader(credential.jar) } }, TIMEOUT_MS);
}
