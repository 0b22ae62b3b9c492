import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MAX_REVOKE_MINUTES, revokeMinutesProblem } from './revocation-length.js';
import { UserStateStore } from './user-states.js';

it('a revocation lasts a positive number of minutes, five years at most; the store refuses any other end', () => {
  for (const ok of [1, 1.5, 60, MAX_REVOKE_MINUTES]) assert.equal(revokeMinutesProblem(ok), undefined, String(ok));
  for (const bad of [0, -1, 0.5, 1e-9, Number.NaN, Number.POSITIVE_INFINITY, 1e308, 200_000_000_000, MAX_REVOKE_MINUTES + 1, '10', null]) assert.ok(revokeMinutesProblem(bad), String(bad));
  const users = new UserStateStore({ threshold: 3, window: 60_000, cooldown: 600_000, attemptWait: 100, attemptHold: 10_000 });
  assert.throws(() => users.revoke('LAB\\erin', 'typo', 200_000_000_000 * 60_000), RangeError);
  assert.equal(users.isRevoked('LAB\\erin'), false);
  assert.equal(users.revoke('LAB\\erin', 'ok', MAX_REVOKE_MINUTES * 60_000).key, 'LAB\\erin');
});
