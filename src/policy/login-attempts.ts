// Smart lockout that cannot be raced. A lock checked when a request arrives but counted only when
// Exchange's 401 comes back let 200 concurrent wrong passwords through a threshold of 5 (issue
// #10). So a credential is forwarded only with a reserved attempt slot: failures in the window
// plus attempts in flight never exceed the threshold. Further attempts wait for a slot (Outlook
// opens several connections at once after a restart, and each settles in milliseconds), then are
// refused the way a wrong password is.
import { events } from '../events.js';
import type { UserStateStore } from './user-states.js';

/**
 * `abandoned`: the exchange ended before Exchange answered (the client closed). Within
 * `attemptHold` it counts as a failure: a Basic password is checked the moment it arrives, and
 * closing before the 401 comes back must not make a guess free (outside attack, round 2). Later it
 * counts as nothing: an RPC channel Exchange accepted ends without an answer too.
 */
export type AttemptOutcome = 'success' | 'failure' | 'none' | 'abandoned';

export interface AttemptTicket {
  /** Ends the attempt once (later calls do nothing); true when this failure locked the user. */
  settle(outcome: AttemptOutcome): boolean;
}

export type Reservation =
  | { readonly ok: true; readonly ticket: AttemptTicket }
  | { readonly ok: false; readonly reason: 'locked-out' | 'attempts-in-flight' };

/** Where a gate reserves attempts: this process' store, or the primary of a worker pool. */
export interface LoginAttempts {
  reserve(key: string): Promise<Reservation>;
}

/** The authoritative limiter over one UserStateStore; `onLock` hears of every lock it causes. */
export class AttemptLimiter implements LoginAttempts {
  private readonly inFlight = new Map<string, number>();
  private readonly waiters = new Map<string, Array<() => void>>();

  constructor(
    private readonly store: UserStateStore,
    private readonly onLock: (key: string, until: number) => void = () => {},
  ) {}

  /** Attempts of this user currently holding a slot (tests, admin views). */
  inFlightFor(key: string): number {
    return this.inFlight.get(key.toLowerCase()) ?? 0;
  }

  reserve(key: string): Promise<Reservation> {
    const k = key.toLowerCase();
    const now = this.tryReserve(k);
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.removeWaiter(k, wake);
        resolve(this.tryReserve(k) ?? { ok: false, reason: 'attempts-in-flight' });
      }, this.store.lockoutConfig().attemptWait);
      const wake = () => {
        const r = this.tryReserve(k);
        if (!r) return false;
        clearTimeout(timer);
        resolve(r);
        return true;
      };
      this.addWaiter(k, wake);
    });
  }

  private tryReserve(k: string): Reservation | undefined {
    if (this.store.isLockedOut(k)) return { ok: false, reason: 'locked-out' };
    const used = this.store.failureCount(k) + this.inFlightFor(k);
    if (used >= this.store.lockoutConfig().threshold) return undefined;
    this.inFlight.set(k, this.inFlightFor(k) + 1);
    return { ok: true, ticket: this.ticket(k) };
  }

  private ticket(k: string): AttemptTicket {
    let holding = true;
    let settled = false;
    const release = () => {
      if (!holding) return;
      holding = false;
      clearTimeout(hold);
      const n = this.inFlightFor(k) - 1;
      if (n > 0) this.inFlight.set(k, n);
      else this.inFlight.delete(k);
      this.wake(k);
    };
    // An attempt Exchange never answers (an RPC_IN_DATA channel) must not hold its slot for hours.
    const hold = setTimeout(release, this.store.lockoutConfig().attemptHold);
    hold.unref();
    return {
      settle: (given) => {
        if (settled) return false;
        settled = true;
        const outcome = given === 'abandoned' ? (holding ? 'failure' : 'none') : given;
        let locked = false;
        if (outcome === 'failure') {
          locked = this.store.recordFailure(k);
          if (locked) {
            const until = this.store.lockedUntil(k)!;
            this.onLock(k, until);
            if (events.userLocked.hasSubscribers) events.userLocked.publish({ at: Date.now(), user: k, actor: 'smart-lockout', failures: this.store.failureCount(k), until, connectionsClosed: 0 });
          }
        } else if (outcome === 'success') this.store.recordSuccess(k);
        release();
        return locked;
      },
    };
  }

  private addWaiter(k: string, w: () => boolean): void {
    const list = this.waiters.get(k);
    if (list) list.push(w);
    else this.waiters.set(k, [w]);
  }

  private removeWaiter(k: string, w: () => boolean): void {
    const list = this.waiters.get(k);
    if (!list) return;
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.waiters.delete(k);
  }

  /** A slot freed (or the user was locked or unlocked): let waiters try again, in order. */
  wake(key: string): void {
    const k = key.toLowerCase();
    const list = this.waiters.get(k);
    if (!list) return;
    // A waiter answers true when it got a slot or a refusal (locked meanwhile: every waiter hears
    // it now, not at its deadline); the first that finds no slot ends the round.
    while (list.length > 0 && list[0]!()) list.shift();
    if (list.length === 0) this.waiters.delete(k);
  }
}
