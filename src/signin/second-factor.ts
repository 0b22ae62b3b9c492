// What browser sign-in (issue #15) needs from the second factor, and nothing more: the sign-in
// flow (src/signin/*-flow, pages, sessions) calls this; second-factor-service.ts implements it over
// a SecondFactorStore (src/state/second-factor-store.ts: memory, SQLite, PostgreSQL), otplib and
// @simplewebauthn/server. Every piece of state lives in the store, never only in one process's
// memory: a browser's next request may reach another worker or another gateway instance.
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

/** The relying party a passkey is bound to: the published host the browser signed in at. */
export interface RelyingParty {
  /** The host name (no port), e.g. mail.example.com; WebAuthn's rpID. */
  readonly id: string;
  /** The origin the browser reports, e.g. https://mail.example.com or https://mail.example.com:8443. */
  readonly origin: string;
  /** Shown by the authenticator, e.g. the organisation's name from the sign-in page settings. */
  readonly name: string;
}

export interface PasskeyInfo {
  /** base64url credential id. */
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | undefined;
}

export interface Enrolment {
  /** An active (confirmed) TOTP secret exists. */
  readonly totp: boolean;
  readonly passkeys: readonly PasskeyInfo[];
}

export interface TotpStart {
  /** Base32, shown as text beside the QR code for authenticator apps without a camera. */
  readonly secret: string;
  /** otpauth://totp/<issuer>:<account>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30 */
  readonly otpauthUri: string;
  /** The otpauth URI as an SVG document (qrcode), safe to inline (no script). */
  readonly qrSvg: string;
}

export type TotpCheck = 'ok' | 'bad-code' | 'replayed' | 'not-enrolled';

export interface SecondFactorService {
  /** What the user (directory key, e.g. LAB\alice) has enrolled. */
  enrolment(userKey: string): Promise<Enrolment>;
  /**
   * A fresh TOTP secret for the user, pending (not yet usable to sign in) until confirmed; a new
   * start replaces an earlier pending one; pending secrets expire after 15 minutes.
   */
  startTotp(userKey: string, accountLabel: string, issuer: string): Promise<TotpStart>;
  /** Confirms the pending secret with a current code: it becomes the active one (encrypted at rest). */
  confirmTotp(userKey: string, code: string): Promise<'ok' | 'bad-code' | 'no-pending'>;
  /**
   * Checks a code against the active secret (±1 time step). A code accepted once is refused after
   * that ('replayed'), across workers and instances: the store records the last accepted time step.
   */
  verifyTotp(userKey: string, code: string): Promise<TotpCheck>;
  /** Options for navigator.credentials.create(); the challenge is kept in the store (5 minutes). */
  passkeyRegistrationOptions(userKey: string, userName: string, rp: RelyingParty): Promise<PublicKeyCredentialCreationOptionsJSON>;
  verifyPasskeyRegistration(userKey: string, response: RegistrationResponseJSON, passkeyName: string, rp: RelyingParty): Promise<'ok' | 'failed'>;
  /** Options for navigator.credentials.get() with the user's passkeys; undefined when there are none. */
  passkeyAuthenticationOptions(userKey: string, rp: RelyingParty): Promise<PublicKeyCredentialRequestOptionsJSON | undefined>;
  /** Verifies the assertion against the stored public key and the stored challenge; updates the counter. */
  verifyPasskeyAuthentication(userKey: string, response: AuthenticationResponseJSON, rp: RelyingParty): Promise<'ok' | 'failed'>;
  /** An admin's reset: forgets the TOTP secret (active and pending) and every passkey of the user. */
  reset(userKey: string): Promise<{ readonly totp: boolean; readonly passkeys: number }>;
  close(): Promise<void>;
}
