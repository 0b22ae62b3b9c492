// A bounded pool of connections to one server. At most `size` connections exist at any time
// (open, opening or in use); a caller beyond that waits in a bounded queue with a deadline. A
// connection serves one caller at a time, so the server never sees more than `size` concurrent
// operations from this process. Connections are re-used LIFO (a hot few stay warm, the rest idle
// out), checked after being idle, and replaced after an error. Generic over the connection so
// the bounds are unit-tested without a server.
import { type Schedule, WaitQueue, realSchedule } from './wait-queue.js';

export interface Poolable {
  /** False once the connection is closed or lost its bind: never handed out again. */
  readonly usable: boolean;
  destroy(): void;
}

export interface PoolOptions<C extends Poolable> {
  readonly size: number;
  readonly maxWaiting: number;
  /** Opens (and binds) a new connection; rejects when the server cannot be reached. */
  open(): Promise<C>;
  /** A cheap round trip proving an idle connection still works. */
  check?(c: C): Promise<void>;
  readonly healthCheckMs: number;
  readonly idleTimeoutMs: number;
  readonly now?: () => number;
  readonly schedule?: Schedule;
}

export interface PoolStats {
  readonly open: number;
  readonly idle: number;
  readonly busy: number;
  readonly waiting: number;
  readonly opened: number;
  /** Most connections that existed at once since start. */
  readonly peak: number;
}

export class ConnectionPool<C extends Poolable> {
  /** `since`: last handed back by a caller; `checked`: last health check (a check is no use). */
  private readonly idle: Array<{ c: C; since: number; checked: number }> = [];
  private readonly busy = new Set<C>();
  private opening = 0;
  private readonly waiters: WaitQueue<C>;
  private readonly now: () => number;
  private readonly schedule: Schedule;
  private closed = false;
  private cancelTimer: (() => void) | undefined;
  private opened = 0;
  private peak = 0;

  constructor(private readonly o: PoolOptions<C>) {
    this.now = o.now ?? Date.now;
    this.schedule = o.schedule ?? realSchedule;
    this.waiters = new WaitQueue<C>(o.maxWaiting, this.now, this.schedule);
    this.armMaintenance();
  }

  private get total(): number {
    return this.idle.length + this.busy.size + this.opening;
  }

  stats(): PoolStats {
    return { open: this.total, idle: this.idle.length, busy: this.busy.size, waiting: this.waiters.length, opened: this.opened, peak: this.peak };
  }

  /** A connection for the caller's exclusive use until release(); rejects at `deadline` (absolute ms). */
  async acquire(deadline: number): Promise<C> {
    if (this.closed) throw new Error('directory closed');
    while (this.idle.length > 0) {
      const { c } = this.idle.pop()!;
      if (c.usable) {
        this.busy.add(c);
        return c;
      }
      c.destroy();
    }
    if (this.total < this.o.size) return this.openFor();
    return this.waiters.wait(deadline);
  }

  /** Returns a connection; `healthy: false` (an error on it) closes it, and its slot is refilled for a waiter. */
  release(c: C, healthy: boolean): void {
    if (!this.busy.delete(c)) return;
    if (!healthy || !c.usable || this.closed) {
      c.destroy();
      this.refill();
      return;
    }
    this.busy.add(c);
    if (this.waiters.offer(c)) return;
    this.busy.delete(c);
    this.idle.push({ c, since: this.now(), checked: this.now() });
  }

  /** Rejects every waiter (the server is marked down: they should go elsewhere or fail fast). */
  failWaiters(e: Error): void {
    this.waiters.rejectAll(e);
  }

  /** Closes idle connections (after the server failed, they are likely dead too). */
  drainIdle(): void {
    for (const { c } of this.idle.splice(0)) c.destroy();
  }

  /** Puts a connection opened elsewhere (a successful probe) into the pool, if there is room. */
  adopt(c: C): void {
    if (this.closed || this.total >= this.o.size) return c.destroy();
    this.opened++;
    this.busy.add(c);
    this.peak = Math.max(this.peak, this.total);
    this.release(c, true);
  }

  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.failWaiters(new Error('directory closed'));
    this.drainIdle();
    for (const c of this.busy) c.destroy();
    this.busy.clear();
  }

  private async openFor(): Promise<C> {
    this.opening++;
    this.peak = Math.max(this.peak, this.total);
    let c: C;
    try {
      c = await this.o.open();
    } catch (e) {
      // No refill here: the caller decides whether the server is down (and fails the waiters).
      this.opening--;
      throw e;
    }
    this.opening--;
    this.opened++;
    if (this.closed) {
      c.destroy();
      throw new Error('directory closed');
    }
    this.busy.add(c);
    return c;
  }

  /** A slot came free while callers wait: open a connection for the longest waiter. */
  private refill(): void {
    if (this.closed || this.waiters.length === 0 || this.total >= this.o.size) return;
    this.openFor().then(
      (c) => this.release(c, true),
      (e: Error) => this.waiters.rejectOne(e),
    );
  }

  private armMaintenance(): void {
    const every = Math.min(this.o.check ? this.o.healthCheckMs || Infinity : Infinity, this.o.idleTimeoutMs || Infinity);
    if (!Number.isFinite(every) || this.closed) return;
    this.cancelTimer = this.schedule(() => {
      this.maintain();
      this.armMaintenance();
    }, Math.max(1000, every / 2));
  }

  /** A connection that passed its check: to a waiter, or back to idle keeping its last real use. */
  private backFromCheck(c: C, since: number): void {
    if (!this.busy.has(c)) return;
    if (this.closed || !c.usable) return this.release(c, false);
    if (this.waiters.offer(c)) return;
    this.busy.delete(c);
    this.idle.push({ c, since, checked: this.now() });
  }

  /** Closes connections idle past idleTimeout; checks those idle past healthCheck. */
  private maintain(): void {
    const now = this.now();
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const { c, since, checked } = this.idle[i]!;
      if (!c.usable || (this.o.idleTimeoutMs > 0 && now - since >= this.o.idleTimeoutMs)) {
        this.idle.splice(i, 1);
        c.destroy();
      } else if (this.o.check && this.o.healthCheckMs > 0 && now - checked >= this.o.healthCheckMs) {
        this.idle.splice(i, 1);
        this.busy.add(c);
        this.o.check(c).then(
          () => this.backFromCheck(c, since),
          () => this.release(c, false),
        );
      }
    }
  }
}
