import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from './manual-clock.js';
import { DeadlineError, QueueFullError, WaitQueue } from './wait-queue.js';

function fakeTime() {
  const c = new ManualClock();
  return { clock: c, schedule: c.schedule, advance: (ms: number) => c.advance(ms), pending: () => c.pending };
}

describe('bounded wait queue with deadlines', () => {
  it('hands items to waiters in arrival order', async () => {
    const f = fakeTime();
    const q = new WaitQueue<string>(10, f.clock.now, f.schedule);
    const a = q.wait(1000);
    const b = q.wait(1000);
    assert.ok(q.offer('first'));
    assert.ok(q.offer('second'));
    assert.equal(q.offer('nobody'), false);
    assert.deepEqual(await Promise.all([a, b]), ['first', 'second']);
    assert.equal(f.pending(), 0, 'deadline timers cancelled');
  });

  it('rejects a waiter at its deadline, not before, and removes it from the queue', async () => {
    const f = fakeTime();
    const q = new WaitQueue<string>(10, f.clock.now, f.schedule);
    const out: { settled?: unknown } = {};
    q.wait(500).then((v) => (out.settled = v), (e: Error) => (out.settled = e));
    await f.advance(499);
    const got = (): unknown => out.settled;
    assert.equal(got(), undefined, 'not before the deadline');
    await f.advance(1);
    const e = got();
    assert.ok(e instanceof DeadlineError, String(e));
    assert.match(e.message, /500 ms/);
    assert.equal(q.length, 0);
    assert.equal(q.offer('late'), false, 'the timed-out waiter gets nothing');
  });

  it('is bounded: beyond max, waiting is refused at once', async () => {
    const f = fakeTime();
    const q = new WaitQueue<number>(2, f.clock.now, f.schedule);
    void q.wait(100).catch(() => {});
    void q.wait(100).catch(() => {});
    await assert.rejects(q.wait(100), QueueFullError);
    const none = new WaitQueue<number>(0, f.clock.now, f.schedule);
    await assert.rejects(none.wait(100), QueueFullError);
  });

  it('rejectOne and rejectAll reach waiters with the given error', async () => {
    const f = fakeTime();
    const q = new WaitQueue<number>(5, f.clock.now, f.schedule);
    const ws = [q.wait(100), q.wait(100), q.wait(100)];
    q.rejectOne(new Error('open failed'));
    q.rejectAll(new Error('dc down'));
    const r = await Promise.allSettled(ws);
    assert.deepEqual(r.map((x) => (x.status === 'rejected' ? (x.reason as Error).message : 'ok')), ['open failed', 'dc down', 'dc down']);
    assert.equal(f.pending(), 0);
  });
});

