// Revocations and smart lockout across worker processes. The primary process owns the one
// authoritative UserStateStore; each worker keeps a replica it can read synchronously on every
// request. Workers report login outcomes; the primary counts them for all workers together (a
// password spray spread over workers still locks at the threshold) and sends every change back.
import type { LockoutConfig } from './policy-schema.js';
import { type Revocation, UserStateStore } from './user-states.js';

/** Worker -> primary: a login outcome the primary counts. */
export type LoginOutcome = { readonly kind: 'failure'; readonly key: string } | { readonly kind: 'success'; readonly key: string };

/** Primary -> workers: a change every replica applies. */
export type UserStateUpdate =
  | { readonly kind: 'revoke'; readonly revocation: Revocation }
  | { readonly kind: 'unrevoke'; readonly key: string }
  | { readonly kind: 'lock'; readonly key: string; readonly until: number }
  | { readonly kind: 'unlock'; readonly key: string }
  /** Failures of this user are being counted: a success must be reported (and only then). */
  | { readonly kind: 'failing'; readonly key: string }
  | { readonly kind: 'cleared'; readonly key: string }
  | { readonly kind: 'snapshot'; readonly revocations: readonly Revocation[]; readonly locks: ReadonlyArray<{ key: string; until: number }>; readonly failing: readonly string[] };

/**
 * A worker's copy: reads are local; login outcomes go to the primary, which decides lockouts.
 * Successes are reported only for users with failures being counted: a success is every
 * authenticated request (Basic authenticates each one), and an IPC message per request cost
 * more CPU than the rest of identity and policy together.
 */
export class ReplicaUserStates extends UserStateStore {
  private readonly failing = new Set<string>();

  constructor(
    lockout: LockoutConfig,
    private readonly report: (o: LoginOutcome) => void,
    now?: () => number,
  ) {
    super(lockout, now);
  }

  /** Counted by the primary; the lock arrives as an update (false here: not decided locally). */
  override recordFailure(key: string): boolean {
    this.failing.add(key.toLowerCase());
    this.report({ kind: 'failure', key });
    return false;
  }

  override recordSuccess(key: string): void {
    if (this.failing.delete(key.toLowerCase())) this.report({ kind: 'success', key });
  }

  apply(u: UserStateUpdate): void {
    switch (u.kind) {
      case 'revoke':
        this.applyRevocation(u.revocation);
        return;
      case 'unrevoke':
        this.unrevoke(u.key);
        return;
      case 'lock':
        this.applyLock(u.key, u.until);
        return;
      case 'unlock':
        this.unlock(u.key);
        this.failing.delete(u.key.toLowerCase());
        return;
      case 'failing':
        this.failing.add(u.key.toLowerCase());
        return;
      case 'cleared':
        this.failing.delete(u.key.toLowerCase());
        return;
      case 'snapshot':
        for (const r of u.revocations) this.applyRevocation(r);
        for (const l of u.locks) this.applyLock(l.key, l.until);
        for (const k of u.failing) this.failing.add(k);
        return;
    }
  }
}

/** The primary's side: applies a worker's login outcome; returns the updates to broadcast. */
export function countOutcome(store: UserStateStore, o: LoginOutcome): UserStateUpdate[] {
  if (o.kind === 'success') {
    if (!store.hasFailures(o.key)) return [];
    store.recordSuccess(o.key);
    return [{ kind: 'cleared', key: o.key }];
  }
  const first = !store.hasFailures(o.key);
  const locked = store.recordFailure(o.key);
  return [
    ...(first ? [{ kind: 'failing', key: o.key } as const] : []),
    ...(locked ? [{ kind: 'lock', key: o.key, until: store.lockedUntil(o.key)! } as const] : []),
  ];
}

/** What a (re)started worker needs so that no revocation or lock is forgotten. */
export function snapshotOf(store: UserStateStore): UserStateUpdate {
  return { kind: 'snapshot', revocations: store.revocations(), locks: store.activeLocks(), failing: store.lockouts().filter((l) => l.failures > 0).map((l) => l.key) };
}
