import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AttemptLimiter, type AttemptTicket } from './login-attempts.js';
import { UserStateStore } from './user-states.js';

const lockout = { threshold: 3, window: 60_000, cooldown: 600_000, attemptWait: 200, attemptHold: 10_000 };

test('at most `threshold` attempts are in flight; the rest wait for a slot', async () => {
  const store = new UserStateStore(lockout);
  const limiter = new AttemptLimiter(store);
  const rs = await Promise.all([1, 2, 3].map(() => limiter.reserve('LAB\\bob')));
  assert.ok(rs.every((r) => r.ok));
  const fourth: { r?: { ok: boolean } } = {};
  const waiting = limiter.reserve('lab\\BOB').then((r) => (fourth.r = r));
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(!('r' in fourth), 'the fourth attempt waits while three are unverified');
  (rs[0] as { ticket: AttemptTicket }).ticket.settle('success');
  await waiting;
  assert.equal(fourth.r?.ok, true, 'a settled attempt frees its slot');
  assert.equal(limiter.inFlightFor('LAB\\bob'), 3);
});

test('failures and attempts in flight together never exceed the threshold; the lock answers every waiter', async () => {
  const store = new UserStateStore(lockout);
  const limiter = new AttemptLimiter(store);
  const locks: string[] = [];
  const l2 = new AttemptLimiter(store, (k) => locks.push(k));
  const granted = await Promise.all([1, 2, 3].map(() => l2.reserve('LAB\\eve')));
  const waiters = Promise.all([1, 2, 3, 4, 5].map(() => l2.reserve('LAB\\eve')));
  for (const g of granted) if (g.ok) g.ticket.settle('failure');
  const answers = await waiters;
  assert.deepEqual(answers.map((a) => (a.ok ? 'ok' : a.reason)), ['locked-out', 'locked-out', 'locked-out', 'locked-out', 'locked-out']);
  assert.deepEqual(locks, ['lab\\eve']);
  assert.equal(store.failureCount('LAB\\eve'), 3, 'exactly threshold failures were possible');
  assert.deepEqual(await limiter.reserve('LAB\\eve'), { ok: false, reason: 'locked-out' });
});

test('a waiter that gets no slot in time is refused as attempts-in-flight; settling twice counts once', async () => {
  const store = new UserStateStore(lockout);
  const limiter = new AttemptLimiter(store);
  const held = await Promise.all([1, 2, 3].map(() => limiter.reserve('LAB\\dan')));
  const t0 = Date.now();
  assert.deepEqual(await limiter.reserve('LAB\\dan'), { ok: false, reason: 'attempts-in-flight' });
  assert.ok(Date.now() - t0 >= 190, 'it waited attemptWait');
  const t = (held[0] as { ticket: AttemptTicket }).ticket;
  t.settle('failure');
  t.settle('failure');
  assert.equal(store.failureCount('LAB\\dan'), 1);
});

test('an attempt nobody answers stops holding its slot after attemptHold; its late failure still counts', async () => {
  const store = new UserStateStore({ ...lockout, threshold: 1, attemptHold: 50 });
  const limiter = new AttemptLimiter(store);
  const first = await limiter.reserve('LAB\\rpc');
  assert.ok(first.ok);
  const second = await limiter.reserve('LAB\\rpc');
  assert.ok(second.ok, 'the slot came free after attemptHold');
  first.ticket.settle('failure');
  assert.equal(store.isLockedOut('LAB\\rpc'), true);
  second.ticket.settle('none');
  assert.equal(limiter.inFlightFor('LAB\\rpc'), 0);
});
