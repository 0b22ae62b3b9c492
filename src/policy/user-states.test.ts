import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserStateStore } from './user-states.js';

const cfg = { threshold: 2, window: 60_000, cooldown: 60_000, attemptWait: 1_000, attemptHold: 1_000 };

describe('UserStateStore spelling', () => {
  it('shows users as the directory spells them (LAB\\dave), matching them case-insensitively', () => {
    let now = 1_000;
    const s = new UserStateStore(cfg, () => now);
    s.recordFailure('LAB\\dave');
    s.recordFailure('lab\\DAVE');
    assert.equal(s.isLockedOut('lab\\dave'), true);
    assert.deepEqual(s.lockouts().map((l) => l.key), ['LAB\\dave']);
    assert.deepEqual(s.activeLocks().map((l) => l.key), ['LAB\\dave']);
    s.revoke('LAB\\bob', 'test');
    assert.deepEqual(s.revocations().map((r) => r.key), ['LAB\\bob']);
    now += 120_000;
    assert.deepEqual(s.lockouts(), []);
  });

  it('a replica taking over a lock keeps the spelling it was sent', () => {
    const s = new UserStateStore(cfg);
    s.applyLock('LAB\\erin', Date.now() + 60_000);
    assert.deepEqual(s.lockouts().map((l) => l.key), ['LAB\\erin']);
  });
});
