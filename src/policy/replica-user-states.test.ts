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
    const u = countOutcome(primary, o);
    if (u) for (const r of replicas) r.apply(u);
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

test('a success reported by any replica resets the shared count', () => {
  const primary = new UserStateStore(lockout);
  const r = new ReplicaUserStates(lockout, (o) => void countOutcome(primary, o));
  r.recordFailure('LAB\\bob');
  r.recordFailure('LAB\\bob');
  r.recordSuccess('LAB\\bob');
  r.recordFailure('LAB\\bob');
  assert.equal(primary.isLockedOut('LAB\\bob'), false);
  assert.equal(primary.lockouts()[0]?.failures, 1);
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
