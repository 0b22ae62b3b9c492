import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AttemptLimiter } from './login-attempts.js';
import { AttemptBroker, RemoteAttempts, ReplicaUserStates, type UserStateUpdate, snapshotOf } from './replica-user-states.js';
import { UserStateStore } from './user-states.js';

const lockout = { threshold: 3, window: 60_000, cooldown: 600_000, attemptWait: 100, attemptHold: 10_000 };

/** Two workers wired to one primary the way serve-primary/serve-worker do it, IPC as async calls. */
function pool() {
  const primary = new UserStateStore(lockout);
  const replicas = [new ReplicaUserStates(lockout), new ReplicaUserStates(lockout)];
  const broadcast = (u: UserStateUpdate) => replicas.forEach((r) => r.apply(u));
  const broker = new AttemptBroker(new AttemptLimiter(primary, (key, until) => broadcast({ kind: 'lock', key, until })));
  const remotes = replicas.map((_, w) => {
    const remote: RemoteAttempts = new RemoteAttempts(
      (m) =>
        setImmediate(() => {
          if (m.t === 'settle') broker.settle(w, m.id, m.outcome);
          else void broker.reserve(w, m.id, m.key).then((a) => setImmediate(() => remote.answered(m.id, a)));
        }),
      () => 1_000,
    );
    return remote;
  });
  return { primary, replicas, remotes, broker };
}

test('attempts fired at two workers at once: at most threshold are granted, the lock reaches both', async () => {
  const { primary, replicas, remotes } = pool();
  const all = await Promise.all(Array.from({ length: 20 }, (_, i) => remotes[i % 2]!.reserve('LAB\\bob')));
  const granted = all.filter((r) => r.ok);
  assert.equal(granted.length, 3, 'threshold 3 across both workers');
  const late = Promise.all(Array.from({ length: 4 }, (_, i) => remotes[i % 2]!.reserve('LAB\\bob')));
  for (const g of granted) if (g.ok) g.ticket.settle('failure');
  assert.ok((await late).every((r) => !r.ok && r.reason === 'locked-out'));
  assert.equal(primary.failureCount('LAB\\bob'), 3);
  assert.ok(replicas.every((r) => r.isLockedOut('lab\\BOB')), 'every replica learned the lock');
});

test('a dead worker releases its slots', async () => {
  const { remotes, broker } = pool();
  const held = await Promise.all([1, 2, 3].map(() => remotes[0]!.reserve('LAB\\carol')));
  assert.ok(held.every((r) => r.ok));
  broker.workerGone(0);
  assert.equal((await remotes[1]!.reserve('LAB\\carol')).ok, true);
});

test('a worker whose primary does not answer fails closed, and returns a slot granted too late', async () => {
  const sent: unknown[] = [];
  const remote = new RemoteAttempts((m) => sent.push(m), () => 30);
  assert.deepEqual(await remote.reserve('LAB\\bob'), { ok: false, reason: 'attempts-in-flight' });
  remote.answered(1, 'ok');
  assert.deepEqual(sent, [{ t: 'reserve', id: 1, key: 'LAB\\bob' }, { t: 'settle', id: 1, outcome: 'none' }]);
});

test('a fresh replica takes revocations and locks from the snapshot, and later changes', () => {
  const primary = new UserStateStore(lockout);
  primary.revoke('LAB\\bob', 'stolen phone', 60_000);
  for (let i = 0; i < 3; i++) primary.recordFailure('LAB\\carol');
  const r = new ReplicaUserStates(lockout);
  assert.equal(r.isRevoked('LAB\\bob'), false);
  r.apply(snapshotOf(primary));
  assert.equal(r.isRevoked('lab\\bob'), true);
  assert.equal(r.isLockedOut('LAB\\carol'), true);
  r.apply({ kind: 'unrevoke', key: 'LAB\\bob' });
  r.apply({ kind: 'unlock', key: 'LAB\\carol' });
  assert.equal(r.isRevoked('LAB\\bob'), false);
  assert.equal(r.isLockedOut('LAB\\carol'), false);
});
