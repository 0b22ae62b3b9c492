// Where revocations, smart-lockout failures, locks and login attempt slots are kept, so that every
// gateway instance enforces the same ones and a restart forgets none (issue #13). Three
// implementations share one contract (test/contracts/state-store.ts): memory (tests, `store:
// memory`), SQLite (one host; the default) and PostgreSQL (several instances, with LISTEN/NOTIFY).
// The gateway never reads a store on a request's path: `UserStateAuthority` keeps a local mirror
// that the policy reads synchronously, and goes to the store only to change something or to
// reserve an attempt slot.
import type { Revocation } from '../policy/user-states.js';

/** The lockout settings a store needs to decide a reservation or a lock (src/policy/policy-schema.ts). */
export interface LockoutRule {
  readonly threshold: number;
  /** Failures older than this (ms) no longer count. */
  readonly window: number;
  /** How long a lock lasts (ms). */
  readonly cooldown: number;
  /** How long an attempt slot is held at most (ms): a slot of an instance that died frees itself. */
  readonly attemptHold: number;
}

export interface Lock {
  readonly key: string;
  readonly until: number;
}

/** What a store holds now: revocations still in force, locks still running, failures in the window. */
export interface StateSnapshot {
  readonly revocations: readonly Revocation[];
  readonly locks: readonly Lock[];
  /** Failure counts per user key (as the directory spells it) inside the window. */
  readonly failures: ReadonlyArray<{ readonly key: string; readonly count: number }>;
}

/** `full`: failures in the window plus attempts in flight (every instance's) reach the threshold. */
export type SlotAnswer = 'ok' | 'locked-out' | 'full';

/** What another instance changed (PostgreSQL only): the receiver re-reads what it needs. */
export type StateChange =
  | { readonly kind: 'revoke'; readonly revocation: Revocation }
  | { readonly kind: 'unrevoke'; readonly key: string }
  | { readonly kind: 'lock'; readonly key: string; readonly until: number }
  | { readonly kind: 'unlock'; readonly key: string }
  /** The connection to the shared store was lost and is back: changes may have been missed. */
  | { readonly kind: 'resync'; readonly snapshot: StateSnapshot };

export interface StateStore {
  /** For logs and errors: a file path, or host:port/db without credentials. */
  readonly describe: string;
  /** True when other instances share it (changes arrive through `watch`). */
  readonly shared: boolean;
  /** Creates or upgrades the tables, then reads what is in force at `now`. */
  open(now: number, rule: LockoutRule): Promise<StateSnapshot>;
  /** Reads what is in force at `now` (after an outage, or for a worker's snapshot). */
  snapshot(now: number, rule: LockoutRule): Promise<StateSnapshot>;
  putRevocation(r: Revocation): Promise<void>;
  /** True when a revocation was in force. */
  deleteRevocation(key: string, now: number): Promise<boolean>;
  revocation(key: string, now: number): Promise<Revocation | undefined>;
  /** Ends a lock and forgets the user's failures (an admin's unlock). */
  unlock(key: string): Promise<void>;
  /**
   * Reserves attempt slot `slot` (unique per instance and attempt) for `key`, atomically across
   * every instance sharing the store: refused while locked, or while failures in the window plus
   * unexpired slots reach the threshold. A lock that has run out is removed with its failures.
   */
  reserve(key: string, slot: string, now: number, rule: LockoutRule): Promise<SlotAnswer>;
  /**
   * Frees the slot and counts the outcome: a failure is added (and locks the user when failures
   * in the window reach the threshold: the lock's end is returned, once, to the settle that made
   * it); a success forgets the user's failures.
   */
  settle(key: string, slot: string, outcome: 'success' | 'failure' | 'none', now: number, rule: LockoutRule): Promise<number | undefined>;
  /** Puts a lock decided without the store (while it was unavailable) into it; keeps a later end. */
  putLock(lock: Lock): Promise<void>;
  /** Hears every change another instance makes, and `resync` after a lost connection. */
  watch(listener: (c: StateChange) => void): void;
  close(): Promise<void>;
}

/** A store failure worth one line: which store and what went wrong, never a stack trace. */
export class StateStoreError extends Error {
  constructor(store: string, message: string) {
    super(`state store ${store}: ${message}`);
    this.name = 'StateStoreError';
  }
}
