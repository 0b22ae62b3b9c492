import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionPool } from './connection-pool.js';
import { ManualClock, settle } from './manual-clock.js';
import { DeadlineError, QueueFullError } from './wait-queue.js';

class FakeConn {
  usable = true;
  destroyed = false;
  constructor(readonly id: number) {}
  destroy(): void {
    this.destroyed = true;
    this.usable = false;
  }
}

function make(over: { size?: number; maxWaiting?: number; failOpen?: () => boolean; check?: (c: FakeConn) => Promise<void>; healthCheckMs?: number; idleTimeoutMs?: number } = {}) {
  const clock = new ManualClock();
  let n = 0;
  let live = 0;
  let maxLive = 0;
  const pool = new ConnectionPool<FakeConn>({
    size: over.size ?? 2,
    maxWaiting: over.maxWaiting ?? 10,
    open: async () => {
      await settle();
      if (over.failOpen?.()) throw new Error('ECONNREFUSED');
      live++;
      maxLive = Math.max(maxLive, live);
      const c = new FakeConn(++n);
      const destroy = c.destroy.bind(c);
      c.destroy = () => (c.destroyed || live--, destroy());
      return c;
    },
    ...(over.check ? { check: over.check } : {}),
    healthCheckMs: over.healthCheckMs ?? 0,
    idleTimeoutMs: over.idleTimeoutMs ?? 0,
    now: clock.now,
    schedule: clock.schedule,
  });
  return { clock, pool, opened: () => n, maxLive: () => maxLive, live: () => live };
}

describe('connection pool', () => {
  it('never holds more than `size` connections: 50 concurrent users share 2, in arrival order', async () => {
    const { pool, opened, maxLive } = make({ size: 2, maxWaiting: 100 });
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const c = await pool.acquire(10_000);
        order.push(i);
        await settle();
        pool.release(c, true);
      }),
    );
    assert.equal(opened(), 2);
    assert.equal(maxLive(), 2);
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'FIFO');
    assert.deepEqual(pool.stats(), { open: 2, idle: 2, busy: 0, waiting: 0, opened: 2, peak: 2 });
  });

  it('re-uses connections instead of opening new ones', async () => {
    const { pool, opened } = make({ size: 4 });
    for (let i = 0; i < 20; i++) pool.release(await pool.acquire(1000), true);
    assert.equal(opened(), 1);
  });

  it('replaces a connection after an error, and the caller waiting for it gets the new one', async () => {
    const { pool, opened } = make({ size: 1 });
    const a = await pool.acquire(1000);
    const waiting = pool.acquire(1000);
    pool.release(a, false);
    const b = await waiting;
    assert.ok(a.destroyed);
    assert.notEqual(a, b);
    assert.equal(opened(), 2);
    b.usable = false; // lost while idle (server closed it)
    pool.release(b, true);
    const c = await pool.acquire(1000);
    assert.ok(b.destroyed && !c.destroyed);
  });

  it('waiters give up at the deadline, and the queue is bounded', async () => {
    const { clock, pool } = make({ size: 1, maxWaiting: 1 });
    const held = await pool.acquire(1000);
    const late = pool.acquire(clock.t + 500).catch((e: Error) => e);
    await assert.rejects(pool.acquire(clock.t + 500), QueueFullError);
    await clock.advance(500);
    assert.ok((await late) instanceof DeadlineError);
    pool.release(held, true);
  });

  it('a failed open reaches its caller and frees the slot; failWaiters empties the queue', async () => {
    let fail = true;
    const { pool } = make({ size: 1, failOpen: () => fail });
    await assert.rejects(pool.acquire(1000), /ECONNREFUSED/);
    assert.equal(pool.stats().open, 0);
    fail = false;
    const c = await pool.acquire(1000);
    const w = pool.acquire(1000);
    pool.failWaiters(new Error('dc down'));
    await assert.rejects(w, /dc down/);
    pool.release(c, true);
  });

  it('checks idle connections, closes the ones that fail and those idle too long', async () => {
    const bad = new Set<number>();
    const { clock, pool, live } = make({ size: 3, healthCheckMs: 30_000, idleTimeoutMs: 300_000, check: async (c) => (bad.has(c.id) ? Promise.reject(new Error('gone')) : undefined) });
    const cs = await Promise.all([pool.acquire(1000), pool.acquire(1000), pool.acquire(1000)]);
    cs.forEach((c) => pool.release(c, true));
    bad.add(cs[1]!.id);
    await clock.advance(30_000);
    assert.equal(live(), 2, 'the one failing its check is closed');
    await clock.advance(300_000);
    assert.equal(live(), 0, 'idle past idleTimeout: closed');
    assert.equal(pool.stats().open, 0);
    pool.close();
  });
});
