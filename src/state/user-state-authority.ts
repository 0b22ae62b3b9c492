// The one authority over revocations and smart lockout in a gateway instance (the single process,
// or a worker pool's primary). It keeps a mirror the policy reads synchronously on every request
// and writes every change to the state store first-hand: a revocation or unlock, each login
// attempt slot (reserved in the store, so the threshold holds across instances), each failure and
// the lock it causes. Changes other instances make arrive from the store and are applied to the
// mirror, then handed to `onRemote` (the composition closes connections and tells workers).
//
// With the shared store unreachable (PostgreSQL down) the instance serves with the last state it
// knew: reads never needed the store; revocations, unrevocations and unlocks take effect here at
// once and are written when the store is back; attempt slots fall back to this instance's own
// limiter over the mirror (a spray spread over N instances is then held to N times the threshold,
// never unlimited), and the locks it decides are written when the store is back. Nothing waits
// for the store longer than its statement time-out.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { events } from '../events.js';
import { type AttemptOutcome, type AttemptTicket, AttemptLimiter, type LoginAttempts, type Reservation } from '../policy/login-attempts.js';
import type { LockoutConfig } from '../policy/policy-schema.js';
import { type Revocation, UserStateStore } from '../policy/user-states.js';
import type { Lock, LockoutRule, StateChange, StateSnapshot, StateStore } from './state-store.js';

/** How often a reservation waiting for a slot asks the store again (a slot freed elsewhere). */
const POLL_MS = 50;
/** How often writes made while the store was unreachable are tried again. */
const FLUSH_MS = 2000;

type Pending = { readonly kind: 'revoke'; readonly r: Revocation } | { readonly kind: 'unrevoke' | 'unlock'; readonly key: string } | { readonly kind: 'lock'; readonly lock: Lock };

/** A change the instance learned from elsewhere (or a whole new state after an outage). */
export type RemoteChange = Exclude<StateChange, { kind: 'resync' }> | { readonly kind: 'snapshot'; readonly snapshot: StateSnapshot };

export interface AuthorityHooks {
  /** A lock this instance caused (the primary tells its workers). */
  readonly onLock?: (key: string, until: number) => void;
  /** A change made by another instance, already in the mirror. */
  readonly onRemote?: (c: RemoteChange) => void;
}

export function ruleOf(c: LockoutConfig): LockoutRule {
  return { threshold: c.threshold, window: c.window, cooldown: c.cooldown, attemptHold: c.attemptHold };
}

export class UserStateAuthority implements LoginAttempts {
  /** What the policy reads. */
  readonly users: UserStateStore;
  readonly #store: StateStore;
  readonly #log: Logger;
  readonly #hooks: AuthorityHooks;
  /** Slots while the store is unreachable: this instance's own limit over the mirror. */
  readonly #fallback: AttemptLimiter;
  readonly #instance = randomUUID();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #pending: Pending[] = [];
  #seq = 0;
  #reachable = true;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(store: StateStore, lockout: LockoutConfig, log: Logger, hooks: AuthorityHooks = {}) {
    this.#store = store;
    this.#log = log;
    this.#hooks = hooks;
    this.users = new UserStateStore(lockout);
    // The limiter logs and publishes the locks it decides itself: here they are only kept for the store.
    this.#fallback = new AttemptLimiter(this.users, (key, until) => this.#lockedHere(key, until, 'limiter'));
  }

  get describe(): string {
    return this.#store.describe;
  }

  /** False while the shared store cannot be reached (readiness says so; the gateway keeps serving). */
  get reachable(): boolean {
    return this.#reachable;
  }

  /** Opens the store and loads what it holds; a store that cannot be opened stops the start. */
  async start(): Promise<void> {
    const snap = await this.#store.open(Date.now(), this.#rule());
    this.users.replace(snap);
    this.#store.watch((c) => this.#heard(c));
  }

  setLockoutConfig(c: LockoutConfig): void {
    this.users.setLockoutConfig(c);
  }

  /** What a (re)started worker needs: the mirror as it is. */
  snapshot(): StateSnapshot {
    return { revocations: this.users.revocations(), locks: this.users.activeLocks(), failures: [] };
  }

  async revoke(key: string, reason: string, forMs: number | undefined): Promise<Revocation> {
    const r = this.users.revoke(key, reason, forMs);
    await this.#write({ kind: 'revoke', r });
    return r;
  }

  async unrevoke(key: string): Promise<boolean> {
    const existed = this.users.unrevoke(key);
    await this.#write({ kind: 'unrevoke', key });
    return existed;
  }

  async unlock(key: string): Promise<void> {
    this.users.unlock(key);
    this.#fallback.wake(key);
    this.#wake(key);
    await this.#write({ kind: 'unlock', key });
  }

  async reserve(key: string): Promise<Reservation> {
    const slot = `${this.#instance}:${++this.#seq}`;
    const deadline = Date.now() + this.users.lockoutConfig().attemptWait;
    for (;;) {
      if (!this.#reachable) return this.#fallback.reserve(key);
      let answer;
      try {
        answer = await this.#store.reserve(key, slot, Date.now(), this.#rule());
      } catch (e) {
        this.#lost(e);
        continue;
      }
      if (answer === 'ok') return { ok: true, ticket: this.#ticket(key, slot) };
      if (answer === 'locked-out') return { ok: false, reason: 'locked-out' };
      const left = deadline - Date.now();
      if (left <= 0) return { ok: false, reason: 'attempts-in-flight' };
      await this.#waitForSlot(key, Math.min(left, POLL_MS));
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.#flushTimer);
    await this.#flush();
    await this.#store.close();
  }

  #rule(): LockoutRule {
    return ruleOf(this.users.lockoutConfig());
  }

  #ticket(key: string, slot: string): AttemptTicket {
    let settled = false;
    const startedAt = Date.now();
    return {
      settle: (given: AttemptOutcome) => {
        if (settled) return false;
        settled = true;
        // As the in-process limiter: a close before Exchange answered is a failure while the slot
        // is still held (a guess must not be free), nothing once an RPC channel outlived the hold.
        const outcome = given === 'abandoned' ? (Date.now() - startedAt < this.users.lockoutConfig().attemptHold ? 'failure' : 'none') : given;
        if (outcome === 'failure') this.users.noteFailure(key);
        else if (outcome === 'success') this.users.recordSuccess(key);
        void this.#settle(key, slot, outcome);
        return false; // a lock is reported by onLock once the store decided it
      },
    };
  }

  async #settle(key: string, slot: string, outcome: 'success' | 'failure' | 'none'): Promise<void> {
    try {
      const until = await this.#store.settle(key, slot, outcome, Date.now(), this.#rule());
      if (until !== undefined) this.#lockedHere(key, until, 'store');
    } catch (e) {
      this.#lost(e);
      // The failure still counts: decided here, written when the store is back.
      if (outcome === 'failure' && !this.users.isLockedOut(key) && this.users.failureCount(key) >= this.users.lockoutConfig().threshold) {
        const until = Date.now() + this.users.lockoutConfig().cooldown;
        this.#lockedHere(key, until, 'local');
      }
    } finally {
      this.#wake(key);
    }
  }

  /** `store`: the store decided it; `local`: this instance, the store failing; `limiter`: the fallback limiter (which logged and published it). */
  #lockedHere(key: string, until: number, by: 'store' | 'local' | 'limiter'): void {
    this.users.applyLock(key, until);
    if (by !== 'store') this.#queue({ kind: 'lock', lock: { key, until } });
    if (by !== 'limiter') {
      this.#log.warn({ user: key, reasons: ['locked-out'] }, 'smart lockout: external logins of this user are blocked');
      if (events.userLocked.hasSubscribers) events.userLocked.publish({ at: Date.now(), user: key, actor: 'smart-lockout', failures: this.users.failureCount(key), until, connectionsClosed: 0 });
    }
    this.#hooks.onLock?.(key, until);
    this.#wake(key);
  }

  #heard(c: StateChange): void {
    switch (c.kind) {
      case 'revoke':
        this.users.applyRevocation(c.revocation);
        break;
      case 'unrevoke':
        this.users.unrevoke(c.key);
        break;
      case 'lock':
        this.users.applyLock(c.key, c.until);
        this.#wake(c.key);
        break;
      case 'unlock':
        this.users.unlock(c.key);
        this.#wake(c.key);
        break;
      case 'resync':
        // The shared store's connection was lost and is back: changes may have been missed.
        void this.#recover(true);
        return;
    }
    this.#hooks.onRemote?.(c);
  }

  async #write(p: Pending): Promise<void> {
    if (!this.#reachable) return this.#queue(p);
    try {
      await this.#apply(p);
    } catch (e) {
      this.#lost(e);
      this.#queue(p);
    }
  }

  #apply(p: Pending): Promise<unknown> {
    switch (p.kind) {
      case 'revoke':
        return this.#store.putRevocation(p.r);
      case 'unrevoke':
        return this.#store.deleteRevocation(p.key, Date.now());
      case 'unlock':
        return this.#store.unlock(p.key);
      case 'lock':
        return this.#store.putLock(p.lock);
    }
  }

  #queue(p: Pending): void {
    this.#pending.push(p);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.#flush();
    }, FLUSH_MS);
    this.#flushTimer.unref();
  }

  #flush(): Promise<void> {
    return this.#recover(false);
  }

  /**
   * Writes what waited, in order (stops at the first failure and tries again later); then, after
   * an outage or a lost connection, reads the whole state again: other instances went on without us.
   */
  async #recover(resync: boolean): Promise<void> {
    while (this.#pending.length > 0) {
      try {
        await this.#apply(this.#pending[0]!);
      } catch (e) {
        this.#lost(e);
        return;
      }
      this.#pending.shift();
    }
    if (this.#reachable && !resync) return;
    let snap: StateSnapshot;
    try {
      snap = await this.#store.snapshot(Date.now(), this.#rule());
    } catch (e) {
      this.#lost(e);
      return;
    }
    this.users.replace(snap);
    if (!this.#reachable) {
      this.#reachable = true;
      this.#log.info({ store: this.#store.describe }, 'state store reachable again: writes caught up, login attempts limited in the store');
    }
    this.#hooks.onRemote?.({ kind: 'snapshot', snapshot: snap });
  }

  #lost(e: unknown): void {
    if (this.#reachable) {
      this.#reachable = false;
      this.#log.error({ store: this.#store.describe, err: (e as Error).message }, 'state store unreachable: serving with the last known revocations and locks, login attempts limited by this instance alone');
    }
    this.#scheduleFlush();
  }

  #waitForSlot(key: string, ms: number): Promise<void> {
    const k = key.toLowerCase();
    return new Promise((resolve) => {
      const set = this.#waiters.get(k) ?? new Set();
      this.#waiters.set(k, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.#waiters.delete(k);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  /** A slot of this user was freed (or the user was locked or unlocked) here: waiters ask again now. */
  #wake(key: string): void {
    for (const w of [...(this.#waiters.get(key.toLowerCase()) ?? [])]) w();
  }
}
