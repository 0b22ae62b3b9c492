// What the sign-in flows share: their dependencies, and the session steps every flow takes
// (a new session, finding the browser's, ending one together with Exchange's).
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { UpstreamTarget } from '../forward/upstream-connect.js';
import type { HeaderField } from '../http/headers.js';
import type { AccessControl } from '../policy/access-gate.js';
import type { LoginAttempts } from '../policy/login-attempts.js';
import type { SecondFactorService } from './second-factor.js';
import type { SessionSeal } from './session-seal.js';
import type { SessionStore, SigninSession } from './session-store.js';
import type { SigninConfig } from './signin-schema.js';
import { SESSION_COOKIE, cookieValues } from './cookie-jar.js';
import { type ExchangeCredential, signOutOfExchange } from './exchange-signin.js';
import type { Brand } from './signin-pages.js';

export interface SigninDeps {
  /** The running `signin:` section (undefined: browser sign-in is off). */
  readonly config: () => SigninConfig | undefined;
  /** Policy decisions and the directory of the running state. */
  readonly access: AccessControl;
  /** The smart lockout's attempt slots (a failed sign-in counts like a 401 from Exchange). */
  readonly attempts: LoginAttempts;
  readonly upstream: () => UpstreamTarget;
  readonly sessions: SessionStore;
  readonly seal: SessionSeal;
  /** The second factor; undefined: a rule that asks for one cannot be met and sign-in fails closed. */
  readonly secondFactor: SecondFactorService | undefined;
  /** The logo file's content, read at start and reload. */
  readonly logo: () => { readonly type: string; readonly bytes: Buffer } | undefined;
  readonly log: Logger;
}

export function brandOf(d: SigninDeps): Brand {
  return { organisation: d.config()?.organisation ?? 'Outlook on the web', logo: d.logo() !== undefined };
}

/** A new session's cookie value and the id the store keeps (its hash). */
export function newSessionId(): { cookie: string; id: string } {
  const cookie = randomBytes(32).toString('base64url');
  return { cookie, id: hashId(cookie) };
}

export function hashId(cookie: string): string {
  return createHash('sha256').update(cookie).digest('base64url');
}

/** The browser's session, if one of its session cookies names a live one. */
export async function findSession(d: SigninDeps, headers: readonly HeaderField[]): Promise<SigninSession | undefined> {
  for (const c of cookieValues(headers, SESSION_COOKIE).slice(0, 4)) {
    if (c.length > 100) continue;
    const s = await d.sessions.get(hashId(c));
    if (s) return s;
  }
  return undefined;
}

export function openCredential(d: SigninDeps, s: SigninSession): ExchangeCredential | undefined {
  const plain = d.seal.open(s.exchange, s.userKey);
  if (plain === undefined) return undefined;
  try {
    return JSON.parse(plain) as ExchangeCredential;
  } catch {
    return undefined;
  }
}

/** The Host the browser used (Exchange builds redirects and cookies for it). */
export function hostOf(headers: readonly HeaderField[]): string {
  return headers.find((h) => h.name.toLowerCase() === 'host')?.value ?? 'localhost';
}

/** Ends a session in the store and Exchange's behind it (a failed logoff is logged, never fatal). */
export async function endSession(d: SigninDeps, s: SigninSession, host: string, why: string): Promise<void> {
  await d.sessions.delete(s.id);
  await endExchangeSession(d, s, host, why);
}

/** Signs a session that left the store out of Exchange, with the cookies it kept. */
export async function endExchangeSession(d: SigninDeps, s: SigninSession, host: string, why: string): Promise<void> {
  const credential = openCredential(d, s);
  if (!credential?.jar) return;
  try {
    await signOutOfExchange(d.upstream(), host, credential);
    d.log.info({ user: s.userKey, why }, 'browser session ended, and its Exchange session');
  } catch (e) {
    d.log.warn({ user: s.userKey, why, err: (e as Error).message }, "browser session ended; Exchange's sign-out failed (its session times out on its own)");
  }
}
