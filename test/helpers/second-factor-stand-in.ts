// A stand-in for the second factor's service, in tests only, until the real one (branch
// issue15-twofa, src/signin/second-factor-service.ts) is merged: in memory, with real TOTP
// (otplib, ±1 step, a used step refused) and real WebAuthn checks (@simplewebauthn/server), so the
// chromium test drives the pages, the script and Chromium's virtual authenticator as they will be
// used. It keeps nothing encrypted and shares nothing between processes: not for production.
import { generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse, type WebAuthnCredential } from '@simplewebauthn/server';
import { generate, generateSecret, verify } from 'otplib';
import QRCode from 'qrcode';
import type { PasskeyInfo, RelyingParty, SecondFactorService, TotpCheck } from '../../src/signin/second-factor.js';

interface Passkey extends PasskeyInfo {
  credential: WebAuthnCredential;
}

/** The TOTP time step a verified code belongs to (otplib's verify also covers HOTP, hence the check). */
function stepOf(r: object): number {
  const step = (r as { timeStep?: unknown }).timeStep;
  if (typeof step !== 'number') throw new Error('not a TOTP verification');
  return step;
}

export class SecondFactorStandIn implements SecondFactorService {
  private readonly active = new Map<string, { secret: string; lastStep: number }>();
  private readonly pending = new Map<string, string>();
  private readonly passkeys = new Map<string, Passkey[]>();
  private readonly challenges = new Map<string, string>();

  /** The code an authenticator app would show now for the user's active or pending secret. */
  async codeFor(userKey: string): Promise<string> {
    const secret = this.active.get(userKey)?.secret ?? this.pending.get(userKey);
    if (!secret) throw new Error(`${userKey} has no secret`);
    return generate({ secret });
  }

  async enrolment(userKey: string) {
    return { totp: this.active.has(userKey), passkeys: (this.passkeys.get(userKey) ?? []).map(({ id, name, createdAt, lastUsedAt }) => ({ id, name, createdAt, lastUsedAt })) };
  }

  async startTotp(userKey: string, accountLabel: string, issuer: string) {
    const secret = generateSecret();
    this.pending.set(userKey, secret);
    const otpauthUri = `otpauth://totp/${encodeURIComponent(issuer)}:${encodeURIComponent(accountLabel)}?secret=${secret}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=6&period=30`;
    return { secret, otpauthUri, qrSvg: await QRCode.toString(otpauthUri, { type: 'svg' }) };
  }

  async confirmTotp(userKey: string, code: string) {
    const secret = this.pending.get(userKey);
    if (!secret) return 'no-pending' as const;
    const r = await verify({ secret, token: code, epochTolerance: 30 });
    if (!r.valid) return 'bad-code' as const;
    this.pending.delete(userKey);
    this.active.set(userKey, { secret, lastStep: stepOf(r) });
    return 'ok' as const;
  }

  async verifyTotp(userKey: string, code: string): Promise<TotpCheck> {
    const a = this.active.get(userKey);
    if (!a) return 'not-enrolled';
    const r = await verify({ secret: a.secret, token: code, epochTolerance: 30 });
    if (!r.valid) return 'bad-code';
    if (stepOf(r) <= a.lastStep) return 'replayed';
    a.lastStep = stepOf(r);
    return 'ok';
  }

  async passkeyRegistrationOptions(userKey: string, userName: string, rp: RelyingParty) {
    const o = await generateRegistrationOptions({ rpName: rp.name, rpID: rp.id, userName, attestationType: 'none', excludeCredentials: (this.passkeys.get(userKey) ?? []).map((p) => ({ id: p.id })), authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' } });
    this.challenges.set(`reg|${userKey}`, o.challenge);
    return o;
  }

  async verifyPasskeyRegistration(userKey: string, response: Parameters<SecondFactorService['verifyPasskeyRegistration']>[1], passkeyName: string, rp: RelyingParty) {
    const expectedChallenge = this.challenges.get(`reg|${userKey}`);
    this.challenges.delete(`reg|${userKey}`);
    if (!expectedChallenge) return 'failed' as const;
    const v = await verifyRegistrationResponse({ response, expectedChallenge, expectedOrigin: rp.origin, expectedRPID: rp.id, requireUserVerification: false }).catch(() => undefined);
    if (!v?.verified) return 'failed' as const;
    const list = this.passkeys.get(userKey) ?? [];
    list.push({ id: v.registrationInfo.credential.id, name: passkeyName, createdAt: Date.now(), lastUsedAt: undefined, credential: v.registrationInfo.credential });
    this.passkeys.set(userKey, list);
    return 'ok' as const;
  }

  async passkeyAuthenticationOptions(userKey: string, rp: RelyingParty) {
    const list = this.passkeys.get(userKey) ?? [];
    if (list.length === 0) return undefined;
    const o = await generateAuthenticationOptions({ rpID: rp.id, allowCredentials: list.map((p) => ({ id: p.id })), userVerification: 'preferred' });
    this.challenges.set(`auth|${userKey}`, o.challenge);
    return o;
  }

  async verifyPasskeyAuthentication(userKey: string, response: Parameters<SecondFactorService['verifyPasskeyAuthentication']>[1], rp: RelyingParty) {
    const expectedChallenge = this.challenges.get(`auth|${userKey}`);
    this.challenges.delete(`auth|${userKey}`);
    const p = (this.passkeys.get(userKey) ?? []).find((k) => k.id === response.id);
    if (!expectedChallenge || !p) return 'failed' as const;
    const v = await verifyAuthenticationResponse({ response, expectedChallenge, expectedOrigin: rp.origin, expectedRPID: rp.id, credential: p.credential, requireUserVerification: false }).catch(() => undefined);
    if (!v?.verified) return 'failed' as const;
    p.credential = { ...p.credential, counter: v.authenticationInfo.newCounter };
    (p as { lastUsedAt: number | undefined }).lastUsedAt = Date.now();
    return 'ok' as const;
  }

  async reset(userKey: string) {
    const totp = this.active.delete(userKey);
    this.pending.delete(userKey);
    const passkeys = this.passkeys.get(userKey)?.length ?? 0;
    this.passkeys.delete(userKey);
    return { totp, passkeys };
  }

  async close() {}
}
