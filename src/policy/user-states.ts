import type { LockoutConfig } from './policy-schema.js';
import type { UserStates } from './evaluate.js';
import { MAX_REVOKE_MINUTES } from './revocation-length.js';

export interface Revocation {
  readonly key: string;
  readonly reason: string;
  readonly at: number;
  readonly until: number | undefined;
}

export interface Lockout {
  readonly key: string;
  readonly failures: number;
  readonly lockedUntil: number | undefined;
}

/**
 * Revocations (admin-initiated, optionally expiring) and smart-lockout counters, per user key
 * (`DOMAIN\sam`, compared case-insensitively), in memory, read synchronously on every request.
 * The gateway's copy is a mirror of its state store (src/state/user-state-authority.ts), which
 * keeps them across restarts and instances; alone it serves `cas-plan` and `policy explain`.
 */
export class UserStateStore implements UserStates {
  private readonly revoked = new Map<string, Revocation>();
  private readonly failures = new Map<string, number[]>();
  private readonly locked = new Map<string, number>();
  /** The key as the directory spells it (`LAB\dave`), for every lower-cased map key: what the admin API shows. */
  private readonly spelled = new Map<string, string>();

  constructor(
    private lockout: LockoutConfig,
    private readonly now: () => number = Date.now,
  ) {}

  setLockoutConfig(cfg: LockoutConfig): void {
    this.lockout = cfg;
  }

  revoke(key: string, reason: string, forMs?: number): Revocation {
    // The last guard (revocation-length.ts): an end no store or Date could hold is never made.
    if (forMs !== undefined && !(Number.isFinite(forMs) && forMs > 0 && forMs <= MAX_REVOKE_MINUTES * 60_000)) throw new RangeError(`a revocation lasts at most ${MAX_REVOKE_MINUTES} minutes`);
    const r = { key, reason, at: this.now(), until: forMs ? this.now() + forMs : undefined };
    this.applyRevocation(r);
    return r;
  }

  /** Takes over a revocation made elsewhere (the primary process of a worker pool). */
  applyRevocation(r: Revocation): void {
    this.revoked.set(r.key.toLowerCase(), r);
  }

  /** Takes over a lockout decided elsewhere; `until` is an absolute time in ms. */
  applyLock(key: string, until: number): void {
    this.spell(key);
    this.locked.set(key.toLowerCase(), until);
  }

  /** When the user's external lockout ends, if locked out now. */
  lockedUntil(key: string): number | undefined {
    return this.isLockedOut(key) ? this.locked.get(key.toLowerCase()) : undefined;
  }

  /** Every active lock, for a worker that (re)starts and must not forget them. */
  activeLocks(): Array<{ key: string; until: number }> {
    return [...this.locked.keys()].filter((k) => this.isLockedOut(k)).map((k) => ({ key: this.spelled.get(k) ?? k, until: this.locked.get(k)! }));
  }

  unrevoke(key: string): boolean {
    return this.revoked.delete(key.toLowerCase());
  }

  revocations(): Revocation[] {
    return [...this.revoked.values()].filter((r) => this.isRevoked(r.key));
  }

  isRevoked(key: string): boolean {
    const r = this.revoked.get(key.toLowerCase());
    if (!r) return false;
    if (r.until !== undefined && r.until <= this.now()) {
      this.revoked.delete(key.toLowerCase());
      return false;
    }
    return true;
  }

  /** Counts a failed external login; returns true when this failure locked the user out. */
  recordFailure(key: string): boolean {
    this.spell(key);
    const k = key.toLowerCase();
    const now = this.now();
    const recent = (this.failures.get(k) ?? []).filter((t) => t > now - this.lockout.window);
    recent.push(now);
    this.failures.set(k, recent);
    if (recent.length >= this.lockout.threshold && !this.isLockedOut(key)) {
      this.locked.set(k, now + this.lockout.cooldown);
      return true;
    }
    return false;
  }

  /**
   * Counts a failure decided elsewhere (the state store decides locks): shown by `lockouts()`,
   * never a lock by itself.
   */
  noteFailure(key: string): void {
    this.spell(key);
    const k = key.toLowerCase();
    const now = this.now();
    this.failures.set(k, [...(this.failures.get(k) ?? []).filter((t) => t > now - this.lockout.window), now]);
  }

  /**
   * Becomes exactly what a state store holds (start, a worker's snapshot, a resync after the
   * shared store was unreachable): what is not in it is forgotten.
   */
  replace(s: { readonly revocations: readonly Revocation[]; readonly locks: ReadonlyArray<{ key: string; until: number }>; readonly failures?: ReadonlyArray<{ key: string; count: number }> }): void {
    this.revoked.clear();
    this.locked.clear();
    this.spelled.clear();
    if (s.failures) this.failures.clear();
    for (const r of s.revocations) this.applyRevocation(r);
    for (const l of s.locks) this.applyLock(l.key, l.until);
    const now = this.now();
    for (const f of s.failures ?? []) {
      this.spell(f.key);
      this.failures.set(f.key.toLowerCase(), Array.from({ length: f.count }, () => now));
    }
    for (const k of this.failures.keys()) this.spell(k);
  }

  /** Failed external logins of this user inside the window. */
  failureCount(key: string): number {
    const now = this.now();
    return (this.failures.get(key.toLowerCase()) ?? []).filter((t) => t > now - this.lockout.window).length;
  }

  lockoutConfig(): LockoutConfig {
    return this.lockout;
  }

  recordSuccess(key: string): void {
    this.failures.delete(key.toLowerCase());
    this.forget(key.toLowerCase());
  }

  isLockedOut(key: string): boolean {
    const k = key.toLowerCase();
    const until = this.locked.get(k);
    if (until === undefined) return false;
    if (until <= this.now()) {
      this.locked.delete(k);
      this.failures.delete(k);
      this.forget(k);
      return false;
    }
    return true;
  }

  lockouts(): Lockout[] {
    const keys = new Set([...this.failures.keys(), ...this.locked.keys()]);
    return [...keys].flatMap((k) => {
      const key = this.spelled.get(k) ?? k;
      const lockedUntil = this.isLockedOut(k) ? this.locked.get(k) : undefined;
      const failures = (this.failures.get(k) ?? []).filter((t) => t > this.now() - this.lockout.window).length;
      // A lock that has just expired took its failures with it: nothing left to show.
      return failures > 0 || lockedUntil !== undefined ? [{ key, failures, lockedUntil }] : [];
    });
  }

  unlock(key: string): void {
    this.locked.delete(key.toLowerCase());
    this.failures.delete(key.toLowerCase());
    this.forget(key.toLowerCase());
  }

  private spell(key: string): void {
    const k = key.toLowerCase();
    if (!this.spelled.has(k)) this.spelled.set(k, key);
  }

  /** A spelling is kept only while some failure or lock still needs it. */
  private forget(k: string): void {
    if (!this.failures.has(k) && !this.locked.has(k)) this.spelled.delete(k);
  }
}
