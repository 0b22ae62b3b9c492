// Where the second factor's state lives (issue #15): TOTP secrets (pending and active, sealed by
// src/signin/secret-box.ts: the store never sees a secret in clear), the last accepted TOTP time
// step per user, passkey credentials and pending WebAuthn challenges. A browser's next request may
// reach another worker or another gateway instance, so nothing of this lives only in one process's
// memory, and every operation that must happen once (accepting a time step, taking a challenge,
// confirming a pending secret, moving a passkey's counter) is atomic in the store itself. Three
// implementations share one contract (test/contracts/second-factor-store.ts): memory (tests),
// SQLite (own tables in state.sqlite) and PostgreSQL (own tables, several instances).
// User keys are compared case-insensitively (JavaScript's toLowerCase, as the state store does).

/** A secret as the secret box sealed it: the id of the key that sealed it, and the ciphertext. */
export interface Sealed {
  readonly keyId: string;
  /** base64url of IV, GCM tag and ciphertext (secret-box.ts owns the layout). */
  readonly data: string;
}

export interface StoredPasskey {
  /** base64url credential id: unique across every user (one authenticator key, one owner). */
  readonly id: string;
  /** base64url of the COSE public key. */
  readonly publicKey: string;
  readonly counter: number;
  readonly transports: readonly string[];
  readonly name: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | undefined;
}

export type ChallengePurpose = 'registration' | 'authentication';

export interface SecondFactorStore {
  /** For logs and errors: a file path, or host:port/db without credentials. */
  readonly describe: string;
  /** Creates or upgrades the tables. */
  open(): Promise<void>;

  /** Keeps a pending TOTP secret until `expires`, replacing an earlier pending one of the user. */
  putPendingTotp(userKey: string, secret: Sealed, expires: number): Promise<void>;
  /** The pending secret, unless it expired at `now`. */
  pendingTotp(userKey: string, now: number): Promise<Sealed | undefined>;
  /**
   * Atomically: if the pending secret is still `secret` and unexpired at `now`, removes it, makes it
   * the active one and records `step` as the last accepted time step (the confirming code cannot
   * sign in afterwards). False when it was replaced, taken by a concurrent confirm, or expired.
   */
  activateTotp(userKey: string, secret: Sealed, step: number, now: number): Promise<boolean>;
  activeTotp(userKey: string): Promise<Sealed | undefined>;
  /**
   * Atomically records `step` as the user's last accepted TOTP time step if it is greater than the
   * last one; true when it was. Of several instances accepting the same step, exactly one gets true.
   */
  acceptTotpStep(userKey: string, step: number): Promise<boolean>;

  /** Adds a passkey; false (nothing changed) when a credential with that id exists, for any user. */
  addPasskey(userKey: string, passkey: StoredPasskey): Promise<boolean>;
  /** The user's passkeys, oldest first. */
  passkeys(userKey: string): Promise<StoredPasskey[]>;
  /** The passkey `id` if it belongs to this user (another user's credential is not found). */
  passkey(userKey: string, id: string): Promise<StoredPasskey | undefined>;
  /**
   * Atomically records a use: sets the counter to `counter` and the last use to `now`, only if the
   * stored counter is lower (or both are 0: authenticators that keep no counter). False otherwise:
   * a cloned authenticator or an assertion used twice.
   */
  usePasskey(userKey: string, id: string, counter: number, now: number): Promise<boolean>;

  /** Keeps a WebAuthn challenge for the user until `expires`; challenges expired at `now` are removed. */
  putChallenge(userKey: string, purpose: ChallengePurpose, challenge: string, now: number, expires: number): Promise<void>;
  /** Atomically removes the challenge; true only if it was there, the user's, for `purpose`, unexpired. */
  takeChallenge(userKey: string, purpose: ChallengePurpose, challenge: string, now: number): Promise<boolean>;

  /** Forgets everything of the user; says whether an active TOTP secret existed and how many passkeys. */
  reset(userKey: string): Promise<{ readonly totp: boolean; readonly passkeys: number }>;
  close(): Promise<void>;
}

/** A store failure worth one line: which store and what went wrong, never a secret. */
export class SecondFactorStoreError extends Error {
  constructor(store: string, message: string) {
    super(`second-factor store ${store}: ${message}`);
    this.name = 'SecondFactorStoreError';
  }
}
