// The state store in this process' memory: `store: memory` (a restart forgets everything; tests)
// and the reference the SQLite and PostgreSQL stores are held to by the contract suite.
import type { Revocation } from '../policy/user-states.js';
import type { Lock, LockoutRule, SlotAnswer, StateChange, StateSnapshot, StateStore } from './state-store.js';

interface Slot {
  readonly key: string;
  readonly expires: number;
}

export class MemoryStateStore implements StateStore {
  readonly describe = 'memory';
  readonly shared = false;
  readonly #revocations = new Map<string, Revocation>();
  readonly #locks = new Map<string, Lock>();
  /** Failure times per lower-cased key, with the key's spelling. */
  readonly #failures = new Map<string, { key: string; at: number[] }>();
  readonly #slots = new Map<string, Slot>();

  async open(now: number, rule: LockoutRule): Promise<StateSnapshot> {
    return this.snapshot(now, rule);
  }

  async snapshot(now: number, rule: LockoutRule): Promise<StateSnapshot> {
    const revocations = [...this.#revocations.values()].filter((r) => r.until === undefined || r.until > now);
    const locks = [...this.#locks.values()].filter((l) => l.until > now);
    const failures = [...this.#failures.values()].map((f) => ({ key: f.key, count: f.at.filter((t) => t > now - rule.window).length })).filter((f) => f.count > 0);
    return { revocations, locks, failures };
  }

  async putRevocation(r: Revocation): Promise<void> {
    this.#revocations.set(r.key.toLowerCase(), r);
  }

  async deleteRevocation(key: string, now: number): Promise<boolean> {
    const r = this.#revocations.get(key.toLowerCase());
    this.#revocations.delete(key.toLowerCase());
    return r !== undefined && (r.until === undefined || r.until > now);
  }

  async revocation(key: string, now: number): Promise<Revocation | undefined> {
    const r = this.#revocations.get(key.toLowerCase());
    return r && (r.until === undefined || r.until > now) ? r : undefined;
  }

  async unlock(key: string): Promise<void> {
    this.#locks.delete(key.toLowerCase());
    this.#failures.delete(key.toLowerCase());
  }

  async reserve(key: string, slot: string, now: number, rule: LockoutRule): Promise<SlotAnswer> {
    const k = key.toLowerCase();
    const lock = this.#locks.get(k);
    if (lock && lock.until > now) return 'locked-out';
    if (lock) {
      this.#locks.delete(k);
      this.#failures.delete(k);
    }
    for (const [id, s] of this.#slots) if (s.expires <= now) this.#slots.delete(id);
    const inFlight = [...this.#slots.values()].filter((s) => s.key === k).length;
    if (this.#recent(k, now, rule) + inFlight >= rule.threshold) return 'full';
    this.#slots.set(slot, { key: k, expires: now + rule.attemptHold });
    return 'ok';
  }

  async settle(key: string, slot: string, outcome: 'success' | 'failure' | 'none', now: number, rule: LockoutRule): Promise<number | undefined> {
    const k = key.toLowerCase();
    this.#slots.delete(slot);
    if (outcome === 'success') {
      this.#failures.delete(k);
      return undefined;
    }
    if (outcome === 'none') return undefined;
    const f = this.#failures.get(k) ?? { key, at: [] };
    f.at = f.at.filter((t) => t > now - rule.window);
    f.at.push(now);
    this.#failures.set(k, f);
    const lock = this.#locks.get(k);
    if (f.at.length < rule.threshold || (lock && lock.until > now)) return undefined;
    const until = now + rule.cooldown;
    this.#locks.set(k, { key, until });
    return until;
  }

  async putLock(lock: Lock): Promise<void> {
    const old = this.#locks.get(lock.key.toLowerCase());
    if (!old || old.until < lock.until) this.#locks.set(lock.key.toLowerCase(), lock);
  }

  watch(_listener: (c: StateChange) => void): void {
    // Nobody else shares this process' memory: no change can come from elsewhere.
  }

  async close(): Promise<void> {}

  #recent(k: string, now: number, rule: LockoutRule): number {
    return this.#failures.get(k)?.at.filter((t) => t > now - rule.window).length ?? 0;
  }
}
