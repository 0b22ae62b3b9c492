import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplicaUserStates, type LoginOutcome, countOutcome, snapshotOf } from './replica-user-states.js';
import { UserStateStore } from './user-states.js';

const lockout = { threshold: 3, window: 60_000, cooldown: 600_000 };

test('failures reported by two replicas lock the user at the threshold counted together', () => {
  let now = 1_000;
  const primary = new UserStateStore(lockout, () => now);
  const replicas: ReplicaUserStates[] = [];
  const report = (o: LoginOutcome) => {
    for (const u of countOutcome(primary, o)) for (const r of replicas) r.apply(u);
  };
  replicas.push(new ReplicaUserStates(lockout, report, () => now), new ReplicaUserStates(lockout, report, () => now));
  assert.equal(replicas[0]!.recordFailure('LAB\\bob'), false);
  replicas[1]!.recordFailure('LAB\\bob');
  assert.equal(replicas[0]!.isLockedOut('LAB\\bob'), false, 'two failures: below the threshold');
  replicas[1]!.recordFailure('lab\\BOB');
  assert.equal(replicas[0]!.isLockedOut('LAB\\bob'), true, 'third failure, other replica: locked everywhere');
  assert.equal(replicas[1]!.isLockedOut('LAB\\bob'), true);
  now += 600_001;
  assert.equal(replicas[0]!.isLockedOut('LAB\\bob'), false, 'the cooldown ends in each replica by itself');
});

test('a success on another replica resets the shared count; successes without failures send nothing', () => {
  const primary = new UserStateStore(lockout);
  const sent: LoginOutcome[] = [];
  const replicas: ReplicaUserStates[] = [];
  const report = (o: LoginOutcome) => {
    sent.push(o);
    for (const u of countOutcome(primary, o)) for (const r of replicas) r.apply(u);
  };
  const [a, b] = [new ReplicaUserStates(lockout, report), new ReplicaUserStates(lockout, report)];
  replicas.push(a, b);
  for (let i = 0; i < 100; i++) b.recordSuccess('LAB\\bob');
  assert.equal(sent.length, 0, 'no IPC per authenticated request');
  a.recordFailure('LAB\\bob');
  a.recordFailure('LAB\\bob');
  b.recordSuccess('LAB\\bob');
  assert.equal(primary.hasFailures('LAB\\bob'), false, 'the success on b cleared the failures seen on a');
  a.recordFailure('LAB\\bob');
  assert.equal(primary.isLockedOut('LAB\\bob'), false);
  assert.equal(primary.lockouts()[0]?.failures, 1);
  a.recordSuccess('LAB\\bob');
  b.recordSuccess('LAB\\bob');
  assert.deepEqual(sent.map((o) => o.kind), ['failure', 'failure', 'success', 'failure', 'success']);
});

test('a fresh replica takes revocations and locks from the snapshot, and later changes', () => {
  const primary = new UserStateStore(lockout);
  primary.revoke('LAB\\bob', 'stolen phone', 60_000);
  for (let i = 0; i < 3; i++) primary.recordFailure('LAB\\carol');
  const r = new ReplicaUserStates(lockout, () => {});
  assert.equal(r.isRevoked('LAB\\bob'), false);
  r.apply(snapshotOf(primary));
  assert.equal(r.isRevoked('lab\\bob'), true);
  assert.equal(r.isLockedOut('LAB\\carol'), true);
  r.apply({ kind: 'unrevoke', key: 'LAB\\bob' });
  r.apply({ kind: 'unlock', key: 'LAB\\carol' });
  assert.equal(r.isRevoked('LAB\\bob'), false);
  assert.equal(r.isLockedOut('LAB\\carol'), false);
});
