// The second factor's state in memory: tests, and `state.store: memory`. Two stores built on one
// `MemorySecondFactorData` behave like two instances sharing a database (the contract's race test).
// JavaScript runs each method to its first await without interruption and these have none, so each
// is atomic as the interface asks.
import type { ChallengePurpose, Sealed, SecondFactorStore, StoredPasskey } from './second-factor-store.js';

interface Challenge {
  readonly user: string;
  readonly purpose: ChallengePurpose;
  readonly expires: number;
}

export class MemorySecondFactorData {
  readonly pending = new Map<string, { secret: Sealed; expires: number }>();
  readonly active = new Map<string, Sealed>();
  readonly steps = new Map<string, number>();
  /** By credential id; each knows its user. */
  readonly passkeys = new Map<string, { user: string; passkey: StoredPasskey }>();
  readonly challenges = new Map<string, Challenge>();
}

export class MemorySecondFactorStore implements SecondFactorStore {
  readonly describe = 'memory';
  readonly #d: MemorySecondFactorData;

  constructor(data: MemorySecondFactorData = new MemorySecondFactorData()) {
    this.#d = data;
  }

  async open(): Promise<void> {}

  async putPendingTotp(userKey: string, secret: Sealed, expires: number): Promise<void> {
    this.#d.pending.set(userKey.toLowerCase(), { secret, expires });
  }

  async pendingTotp(userKey: string, now: number): Promise<Sealed | undefined> {
    const p = this.#d.pending.get(userKey.toLowerCase());
    return p && p.expires > now ? p.secret : undefined;
  }

  async activateTotp(userKey: string, secret: Sealed, step: number, now: number): Promise<boolean> {
    const k = userKey.toLowerCase();
    const p = this.#d.pending.get(k);
    if (!p || p.expires <= now || p.secret.data !== secret.data || p.secret.keyId !== secret.keyId) return false;
    this.#d.pending.delete(k);
    this.#d.active.set(k, p.secret);
    this.#d.steps.set(k, Math.max(step, this.#d.steps.get(k) ?? -Infinity));
    return true;
  }

  async activeTotp(userKey: string): Promise<Sealed | undefined> {
    return this.#d.active.get(userKey.toLowerCase());
  }

  async acceptTotpStep(userKey: string, step: number): Promise<boolean> {
    const k = userKey.toLowerCase();
    const last = this.#d.steps.get(k);
    if (last !== undefined && last >= step) return false;
    this.#d.steps.set(k, step);
    return true;
  }

  async addPasskey(userKey: string, passkey: StoredPasskey): Promise<boolean> {
    if (this.#d.passkeys.has(passkey.id)) return false;
    this.#d.passkeys.set(passkey.id, { user: userKey.toLowerCase(), passkey: { ...passkey, transports: [...passkey.transports] } });
    return true;
  }

  async passkeys(userKey: string): Promise<StoredPasskey[]> {
    const k = userKey.toLowerCase();
    return [...this.#d.passkeys.values()].filter((p) => p.user === k).map((p) => p.passkey).sort((a, b) => a.createdAt - b.createdAt);
  }

  async passkey(userKey: string, id: string): Promise<StoredPasskey | undefined> {
    const p = this.#d.passkeys.get(id);
    return p && p.user === userKey.toLowerCase() ? p.passkey : undefined;
  }

  async usePasskey(userKey: string, id: string, counter: number, now: number): Promise<boolean> {
    const p = this.#d.passkeys.get(id);
    if (!p || p.user !== userKey.toLowerCase()) return false;
    if (!(p.passkey.counter < counter || (p.passkey.counter === 0 && counter === 0))) return false;
    p.passkey = { ...p.passkey, counter, lastUsedAt: now };
    return true;
  }

  async putChallenge(userKey: string, purpose: ChallengePurpose, challenge: string, now: number, expires: number): Promise<void> {
    for (const [c, v] of this.#d.challenges) if (v.expires <= now) this.#d.challenges.delete(c);
    this.#d.challenges.set(challenge, { user: userKey.toLowerCase(), purpose, expires });
  }

  async takeChallenge(userKey: string, purpose: ChallengePurpose, challenge: string, now: number): Promise<boolean> {
    const c = this.#d.challenges.get(challenge);
    if (!c || c.user !== userKey.toLowerCase() || c.purpose !== purpose) return false;
    this.#d.challenges.delete(challenge);
    return c.expires > now;
  }

  async reset(userKey: string): Promise<{ readonly totp: boolean; readonly passkeys: number }> {
    const k = userKey.toLowerCase();
    const totp = this.#d.active.delete(k);
    this.#d.pending.delete(k);
    this.#d.steps.delete(k);
    let passkeys = 0;
    for (const [id, p] of this.#d.passkeys) {
      if (p.user !== k) continue;
      this.#d.passkeys.delete(id);
      passkeys++;
    }
    for (const [c, v] of this.#d.challenges) if (v.user === k) this.#d.challenges.delete(c);
    return { totp, passkeys };
  }

  async close(): Promise<void> {}
}
