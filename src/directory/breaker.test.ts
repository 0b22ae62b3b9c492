import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Breaker } from './breaker.js';

describe('circuit breaker', () => {
  const make = () => {
    const clock = { t: 1000 };
    return { clock, b: new Breaker({ cooldownMs: 100, maxCooldownMs: 350 }, () => clock.t) };
  };

  it('opens on a failure and lets no request through until a probe succeeds', () => {
    const { clock, b } = make();
    assert.equal(b.state, 'closed');
    assert.ok(b.allowsRequests);
    b.failure();
    assert.equal(b.state, 'open');
    assert.equal(b.allowsRequests, false);
    assert.equal(b.retryInMs, 100);
    assert.equal(b.startProbe(), false, 'no probe before the cooldown');
    clock.t += 100;
    assert.equal(b.startProbe(), true);
    assert.equal(b.state, 'half-open');
    assert.equal(b.allowsRequests, false, 'requests wait for the probe');
    assert.equal(b.startProbe(), false, 'one probe at a time');
    b.success();
    assert.equal(b.state, 'closed');
    assert.ok(b.allowsRequests);
    assert.equal(b.opens, 1);
  });

  it('doubles the cooldown after each failed probe, up to the maximum, and resets on success', () => {
    const { clock, b } = make();
    b.failure();
    const pauses: number[] = [];
    for (let i = 0; i < 4; i++) {
      clock.t += b.retryInMs;
      assert.ok(b.startProbe());
      b.failure();
      pauses.push(b.retryInMs);
    }
    assert.deepEqual(pauses, [200, 350, 350, 350]);
    clock.t += 350;
    assert.ok(b.startProbe());
    b.success();
    b.failure();
    assert.equal(b.retryInMs, 100, 'a new outage starts from the base cooldown');
    assert.equal(b.opens, 2);
  });

  it('late failures of operations started before it opened do not extend the pause', () => {
    const { clock, b } = make();
    b.failure();
    clock.t += 60;
    b.failure();
    assert.equal(b.retryInMs, 40);
  });
});
