// The second factor behind the SecondFactorService interface (second-factor.ts): TOTP (RFC 6238,
// otplib: SHA-1, 6 digits, 30 s steps, one step either side) and passkeys (@simplewebauthn/server).
// Every piece of state is in the store, so any worker or instance can answer the browser's next
// request; what must happen once (a time step accepted, a challenge taken, a pending secret
// confirmed, a counter moved) is decided atomically by the store, not here. Fail closed: anything
// that cannot be parsed, opened or verified is 'failed' / 'bad-code', with one log line naming the
// reason and never a secret, a code or key material.
import { createHash } from 'node:crypto';
import { generateSecret, verify as verifyOtp } from 'otplib';
import QRCode from 'qrcode';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { ChallengePurpose, Sealed, SecondFactorStore } from '../state/second-factor-store.js';
import type { SecretBox } from './secret-box.js';
import type { Enrolment, RelyingParty, SecondFactorService, TotpCheck, TotpStart } from './second-factor.js';

/** A pending TOTP secret is usable for confirmation this long (the interface's 15 minutes). */
export const PENDING_TOTP_MS = 15 * 60_000;
/** A WebAuthn challenge is valid this long (the interface's 5 minutes), also the browser's timeout. */
export const CHALLENGE_MS = 5 * 60_000;
const PERIOD_S = 30;
const DIGITS = 6;
const PASSKEY_NAME_MAX = 64;

/** The part of pino's Logger the service writes to: a test can hand in a recorder. */
export interface SecondFactorLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SecondFactorServiceOptions {
  /** Opened by the caller; `close()` closes it. */
  readonly store: SecondFactorStore;
  readonly box: SecretBox;
  readonly log: SecondFactorLog;
  /** ms since the epoch; tests pass their own clock. */
  readonly now?: () => number;
}

export function createSecondFactorService(opts: SecondFactorServiceOptions): SecondFactorService {
  const { store, box, log } = opts;
  const now = opts.now ?? Date.now;

  /** Opens a sealed secret; an unopenable one is logged (why, which key) and treated as absent. */
  const openSecret = (sealed: Sealed, userKey: string, which: 'active' | 'pending'): string | undefined => {
    try {
      return box.open(sealed, userKey);
    } catch (e) {
      log.error({ user: userKey, keyId: sealed.keyId, reason: (e as Error).message }, `second factor: the ${which} TOTP secret cannot be opened`);
      return undefined;
    }
  };

  /** The code's time step within one step of now, or undefined; a malformed code is just a wrong one. */
  const matchStep = async (userKey: string, secret: string, code: string): Promise<number | undefined> => {
    if (typeof code !== 'string' || !/^\d{6}$/.test(code)) return undefined;
    try {
      const r = await verifyOtp({ secret, token: code, epoch: Math.floor(now() / 1000), period: PERIOD_S, digits: DIGITS, algorithm: 'sha1', epochTolerance: PERIOD_S });
      // TOTP results carry the matched time step (otplib's union also covers HOTP's, which has none).
      return r.valid && 'timeStep' in r ? r.timeStep : undefined;
    } catch (e) {
      // otplib refuses a secret it cannot use (its guardrails): no code matches it. Its message names no secret.
      log.error({ user: userKey, reason: (e as Error).message.slice(0, 200) }, 'second factor: TOTP check failed');
      return undefined;
    }
  };

  const failed = (userKey: string, what: string, reason: string): 'failed' => {
    log.warn({ user: userKey, reason: reason.slice(0, 300) }, `second factor: ${what} failed`);
    return 'failed';
  };

  /** Takes the challenge the browser signed (from clientDataJSON): single use, this user's, unexpired. */
  const takeSignedChallenge = async (userKey: string, purpose: ChallengePurpose, clientDataJSON: unknown): Promise<string | string[]> => {
    const challenge = challengeOf(clientDataJSON);
    if (challenge === undefined) return ['client data without a challenge'];
    if (!(await store.takeChallenge(userKey, purpose, challenge, now()))) return ['unknown, used or expired challenge'];
    return challenge;
  };

  return {
    async enrolment(userKey: string): Promise<Enrolment> {
      const [active, passkeys] = await Promise.all([store.activeTotp(userKey), store.passkeys(userKey)]);
      return { totp: active !== undefined, passkeys: passkeys.map((p) => ({ id: p.id, name: p.name, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt })) };
    },

    async startTotp(userKey: string, accountLabel: string, issuer: string): Promise<TotpStart> {
      // 20 random bytes: the RFC 4226 recommendation and what authenticator apps expect for SHA-1.
      const secret = generateSecret({ length: 20 });
      await store.putPendingTotp(userKey, box.seal(secret, userKey), now() + PENDING_TOTP_MS);
      const otpauthUri = totpUri(secret, accountLabel, issuer);
      const qrSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      log.info({ user: userKey }, 'second factor: TOTP enrolment started');
      return { secret, otpauthUri, qrSvg };
    },

    async confirmTotp(userKey: string, code: string): Promise<'ok' | 'bad-code' | 'no-pending'> {
      const pending = await store.pendingTotp(userKey, now());
      if (!pending) return 'no-pending';
      const secret = openSecret(pending, userKey, 'pending');
      if (secret === undefined) return 'no-pending';
      const step = await matchStep(userKey, secret, code);
      if (step === undefined) {
        log.info({ user: userKey, reason: 'wrong code' }, 'second factor: TOTP confirmation refused');
        return 'bad-code';
      }
      // Replaced by a newer start, or confirmed by a concurrent request, since it was read.
      if (!(await store.activateTotp(userKey, pending, step, now()))) return 'no-pending';
      log.info({ user: userKey }, 'second factor: TOTP enrolled');
      return 'ok';
    },

    async verifyTotp(userKey: string, code: string): Promise<TotpCheck> {
      const active = await store.activeTotp(userKey);
      if (!active) return 'not-enrolled';
      const secret = openSecret(active, userKey, 'active');
      if (secret === undefined) return 'bad-code';
      const step = await matchStep(userKey, secret, code);
      if (step === undefined) {
        log.info({ user: userKey, reason: 'wrong code' }, 'second factor: TOTP refused');
        return 'bad-code';
      }
      if (!(await store.acceptTotpStep(userKey, step))) {
        log.warn({ user: userKey, reason: 'time step already used' }, 'second factor: TOTP replay refused');
        return 'replayed';
      }
      return 'ok';
    },

    async passkeyRegistrationOptions(userKey: string, userName: string, rp: RelyingParty): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const existing = await store.passkeys(userKey);
      const options = await generateRegistrationOptions({
        rpName: rp.name,
        rpID: rp.id,
        userName,
        userID: new Uint8Array(webauthnUserId(userKey)),
        timeout: CHALLENGE_MS,
        attestationType: 'none',
        // The authenticator refuses to make a second credential for a user it already holds one of.
        excludeCredentials: existing.map((p) => ({ id: p.id, transports: [...p.transports] })),
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      });
      const t = now();
      await store.putChallenge(userKey, 'registration', options.challenge, t, t + CHALLENGE_MS);
      return options;
    },

    async verifyPasskeyRegistration(userKey: string, response: RegistrationResponseJSON, passkeyName: string, rp: RelyingParty): Promise<'ok' | 'failed'> {
      try {
        const challenge = await takeSignedChallenge(userKey, 'registration', response?.response?.clientDataJSON);
        if (Array.isArray(challenge)) return failed(userKey, 'passkey registration', challenge[0]!);
        const v = await verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: rp.origin, expectedRPID: rp.id, requireUserVerification: false });
        if (!v.verified) return failed(userKey, 'passkey registration', 'not verified');
        const c = v.registrationInfo.credential;
        const added = await store.addPasskey(userKey, {
          id: c.id,
          publicKey: Buffer.from(c.publicKey).toString('base64url'),
          counter: c.counter,
          transports: c.transports ?? [],
          name: passkeyLabel(passkeyName),
          createdAt: now(),
          lastUsedAt: undefined,
        });
        if (!added) return failed(userKey, 'passkey registration', 'credential already registered');
        log.info({ user: userKey, credential: c.id, userVerified: v.registrationInfo.userVerified }, 'second factor: passkey registered');
        return 'ok';
      } catch (e) {
        return failed(userKey, 'passkey registration', (e as Error).message);
      }
    },

    async passkeyAuthenticationOptions(userKey: string, rp: RelyingParty): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
      const passkeys = await store.passkeys(userKey);
      if (passkeys.length === 0) return undefined;
      const options = await generateAuthenticationOptions({
        rpID: rp.id,
        allowCredentials: passkeys.map((p) => ({ id: p.id, transports: [...p.transports] })),
        userVerification: 'preferred',
        timeout: CHALLENGE_MS,
      });
      const t = now();
      await store.putChallenge(userKey, 'authentication', options.challenge, t, t + CHALLENGE_MS);
      return options;
    },

    async verifyPasskeyAuthentication(userKey: string, response: AuthenticationResponseJSON, rp: RelyingParty): Promise<'ok' | 'failed'> {
      try {
        const challenge = await takeSignedChallenge(userKey, 'authentication', response?.response?.clientDataJSON);
        if (Array.isArray(challenge)) return failed(userKey, 'passkey sign-in', challenge[0]!);
        const id = typeof response.id === 'string' ? response.id : '';
        // Only this user's credentials are looked up: another user's passkey is simply not found.
        const pk = await store.passkey(userKey, id);
        if (!pk) return failed(userKey, 'passkey sign-in', 'credential not registered for this user');
        const handle = response.response.userHandle;
        if (handle !== undefined && handle !== webauthnUserId(userKey).toString('base64url')) return failed(userKey, 'passkey sign-in', 'user handle of another user');
        const v = await verifyAuthenticationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: rp.origin,
          expectedRPID: rp.id,
          credential: { id: pk.id, publicKey: Buffer.from(pk.publicKey, 'base64url'), counter: pk.counter, transports: [...pk.transports] },
          requireUserVerification: false,
        });
        if (!v.verified) return failed(userKey, 'passkey sign-in', 'signature not verified');
        if (!(await store.usePasskey(userKey, pk.id, v.authenticationInfo.newCounter, now()))) return failed(userKey, 'passkey sign-in', 'signature counter did not advance (a cloned authenticator?)');
        return 'ok';
      } catch (e) {
        return failed(userKey, 'passkey sign-in', (e as Error).message);
      }
    },

    async reset(userKey: string): Promise<{ readonly totp: boolean; readonly passkeys: number }> {
      const r = await store.reset(userKey);
      log.info({ user: userKey, totp: r.totp, passkeys: r.passkeys }, 'second factor: reset');
      return r;
    },

    close: () => store.close(),
  };
}

/** otpauth://totp/<issuer>:<account>?… with every parameter spelled out (some apps assume others). */
export function totpUri(secret: string, accountLabel: string, issuer: string): string {
  const e = encodeURIComponent;
  return `otpauth://totp/${e(issuer)}:${e(accountLabel)}?secret=${secret}&issuer=${e(issuer)}&algorithm=SHA1&digits=${DIGITS}&period=${PERIOD_S}`;
}

/** WebAuthn's user.id: opaque and stable per user, and not the user's name (the spec asks no PII). */
export function webauthnUserId(userKey: string): Buffer {
  return createHash('sha256').update('portcullis webauthn user\0').update(userKey.toLowerCase()).digest();
}

/** The name a user gave a passkey, made safe to show: no control characters, bounded, never empty. */
function passkeyLabel(name: string): string {
  const clean = (typeof name === 'string' ? name : '').replace(/[\p{Cc}\p{Cf}]/gu, ' ').replace(/\s+/g, ' ').trim().slice(0, PASSKEY_NAME_MAX);
  return clean || 'Passkey';
}

function challengeOf(clientDataJSON: unknown): string | undefined {
  if (typeof clientDataJSON !== 'string') return undefined;
  try {
    const c = (JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown }).challenge;
    return typeof c === 'string' && c.length > 0 && c.length <= 512 ? c : undefined;
  } catch {
    return undefined;
  }
}
