// A bounded FIFO of callers waiting for a resource (a pooled connection), each with a deadline.
// Bounded so that a storm beyond what the directory can serve is refused at once instead of
// piling up; deadlines so that nobody waits longer than the gateway is willing to.

export class QueueFullError extends Error {
  constructor(readonly waiting: number) {
    super(`directory queue full (${waiting} lookups waiting)`);
  }
}

export class DeadlineError extends Error {
  constructor(waitedMs: number) {
    super(`no directory connection free within ${waitedMs} ms`);
  }
}

/** Runs `fn` after `ms`; returns a cancel function. Injected by tests. */
export type Schedule = (fn: () => void, ms: number) => () => void;

export const realSchedule: Schedule = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: Error): void;
  cancel(): void;
}

export class WaitQueue<T> {
  private readonly waiters: Array<Waiter<T>> = [];

  constructor(
    private readonly max: number,
    private readonly now: () => number = Date.now,
    private readonly schedule: Schedule = realSchedule,
  ) {}

  get length(): number {
    return this.waiters.length;
  }

  /** Waits for `offer` to hand over an item; rejects when the queue is full or at `deadline` (absolute ms). */
  wait(deadline: number): Promise<T> {
    if (this.waiters.length >= this.max) return Promise.reject(new QueueFullError(this.waiters.length));
    const started = this.now();
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<T> = { resolve, reject, cancel: () => {} };
      w.cancel = this.schedule(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new DeadlineError(this.now() - started));
      }, Math.max(0, deadline - started));
      this.waiters.push(w);
    });
  }

  /** Hands `item` to the longest waiter; false when nobody waits. */
  offer(item: T): boolean {
    const w = this.waiters.shift();
    if (!w) return false;
    w.cancel();
    w.resolve(item);
    return true;
  }

  /** Rejects the longest waiter (the connection opened for it failed); false when nobody waits. */
  rejectOne(e: Error): boolean {
    const w = this.waiters.shift();
    if (!w) return false;
    w.cancel();
    w.reject(e);
    return true;
  }

  rejectAll(e: Error): void {
    while (this.rejectOne(e));
  }
}
