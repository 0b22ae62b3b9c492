// Revocations and smart lockout across worker processes. The primary process owns the one
// authoritative UserStateStore and AttemptLimiter; each worker keeps a replica it can read
// synchronously on every request, and reserves login attempt slots from the primary, so that a
// password spray spread over workers (or fired at all of them at once) is limited as one.
import type { AttemptOutcome, AttemptTicket, LoginAttempts, Reservation } from './login-attempts.js';
import { type Revocation, UserStateStore } from './user-states.js';

/** Primary -> workers: a change every replica applies. */
export type UserStateUpdate =
  | { readonly kind: 'revoke'; readonly revocation: Revocation }
  | { readonly kind: 'unrevoke'; readonly key: string }
  | { readonly kind: 'lock'; readonly key: string; readonly until: number }
  | { readonly kind: 'unlock'; readonly key: string }
  | { readonly kind: 'snapshot'; readonly revocations: readonly Revocation[]; readonly locks: ReadonlyArray<{ key: string; until: number }> };

/** Worker <-> primary: one attempt slot, reserved, answered and settled by id. */
export type AttemptRequest = { readonly t: 'reserve'; readonly id: number; readonly key: string } | { readonly t: 'settle'; readonly id: number; readonly outcome: AttemptOutcome };
export type AttemptAnswer = 'ok' | 'locked-out' | 'attempts-in-flight';

/** A worker's copy: reads are local; every change arrives from the primary. */
export class ReplicaUserStates extends UserStateStore {
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
        // A new worker's first state, or the whole state again after the shared store came back.
        this.replace(u);
        return;
    }
  }
}

/** A worker's attempt slots, reserved from the primary; an unanswered request fails closed. */
export class RemoteAttempts implements LoginAttempts {
  private nextId = 1;
  private readonly waiting = new Map<number, (a: AttemptAnswer) => void>();

  constructor(
    private readonly send: (m: AttemptRequest) => void,
    /** How long to wait for the primary: its own wait for a free slot plus a margin. */
    private readonly timeoutMs: () => number,
  ) {}

  reserve(key: string): Promise<Reservation> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => answer('attempts-in-flight'), this.timeoutMs());
      const answer = (a: AttemptAnswer) => {
        clearTimeout(timer);
        if (!this.waiting.delete(id)) return;
        if (a === 'ok') resolve({ ok: true, ticket: this.ticket(id) });
        else resolve({ ok: false, reason: a });
      };
      this.waiting.set(id, answer);
      this.send({ t: 'reserve', id, key });
    });
  }

  /** The primary's answer to reservation `id`. */
  answered(id: number, a: AttemptAnswer): void {
    const w = this.waiting.get(id);
    if (w) return w(a);
    // Granted after this worker gave up waiting: hand the slot straight back.
    if (a === 'ok') this.send({ t: 'settle', id, outcome: 'none' });
  }

  private ticket(id: number): AttemptTicket {
    let settled = false;
    return {
      settle: (outcome) => {
        if (!settled) this.send({ t: 'settle', id, outcome });
        settled = true;
        return false; // a lock is decided by the primary and arrives as an update
      },
    };
  }
}

/** The primary's side: slots held per worker, released when the worker dies. */
export class AttemptBroker {
  private readonly held = new Map<string, AttemptTicket>();

  constructor(private readonly attempts: LoginAttempts) {}

  async reserve(worker: number, id: number, key: string): Promise<AttemptAnswer> {
    const r = await this.attempts.reserve(key);
    if (!r.ok) return r.reason;
    this.held.set(`${worker}:${id}`, r.ticket);
    return 'ok';
  }

  settle(worker: number, id: number, outcome: AttemptOutcome): void {
    const k = `${worker}:${id}`;
    this.held.get(k)?.settle(outcome);
    this.held.delete(k);
  }

  workerGone(worker: number): void {
    for (const [k, t] of this.held) {
      if (!k.startsWith(`${worker}:`)) continue;
      t.settle('none');
      this.held.delete(k);
    }
  }
}

/** What a (re)started worker needs so that no revocation or lock is forgotten. */
export function snapshotOf(store: UserStateStore): UserStateUpdate {
  return { kind: 'snapshot', revocations: store.revocations(), locks: store.activeLocks() };
}
