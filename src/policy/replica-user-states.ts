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
  | { readonly kind: 'snapshot'; readonly revocations: readonly Revocation[]; readonly locks: ReadonlyArray<{ key: string; until: number }> };

/** A worker's copy: reads are local; login outcomes go to the primary, which decides lockouts. */
export class ReplicaUserStates extends UserStateStore {
  constructor(
    lockout: LockoutConfig,
    private readonly report: (o: LoginOutcome) => void,
    now?: () => number,
  ) {
    super(lockout, now);
  }

  /** Counted by the primary; the lock arrives as an update (false here: not decided locally). */
  override recordFailure(key: string): boolean {
    this.report({ kind: 'failure', key });
    return false;
  }

  override recordSuccess(key: string): void {
    this.report({ kind: 'success', key });
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
        return;
      case 'snapshot':
        for (const r of u.revocations) this.applyRevocation(r);
        for (const l of u.locks) this.applyLock(l.key, l.until);
        return;
    }
  }
}

/** The primary's side: applies a worker's login outcome; returns the lock to broadcast, if any. */
export function countOutcome(store: UserStateStore, o: LoginOutcome): UserStateUpdate | undefined {
  if (o.kind === 'success') {
    store.recordSuccess(o.key);
    return undefined;
  }
  if (!store.recordFailure(o.key)) return undefined;
  return { kind: 'lock', key: o.key, until: store.lockedUntil(o.key)! };
}

/** What a (re)started worker needs so that no revocation or lock is forgotten. */
export function snapshotOf(store: UserStateStore): UserStateUpdate {
  return { kind: 'snapshot', revocations: store.revocations(), locks: store.activeLocks() };
}
