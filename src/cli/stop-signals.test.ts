import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stopOnSignals } from './stop-signals.js';

function harness() {
  const handlers = new Map<string, () => void>();
  const exits: number[] = [];
  let clock = 0;
  let stops = 0;
  let finish!: () => void;
  stopOnSignals(
    () => (stops++, new Promise<void>((r) => (finish = r))),
    (s, h) => handlers.set(s, h),
    (c) => exits.push(c),
    () => clock,
    () => {},
  );
  return { signal: (s: string) => handlers.get(s)!(), exits, stops: () => stops, advance: (ms: number) => (clock += ms), finish: () => finish() };
}

describe('stop signals', () => {
  it('the same stop delivered twice at once (relay and systemd, or a terminal) stops gracefully once', async () => {
    const h = harness();
    h.signal('SIGTERM');
    h.advance(5);
    h.signal('SIGTERM');
    h.signal('SIGINT');
    assert.equal(h.stops(), 1);
    assert.deepEqual(h.exits, []);
    h.finish();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.exits, [0]);
  });

  it('a second signal a second or more later exits at once', () => {
    const h = harness();
    h.signal('SIGINT');
    h.advance(1000);
    h.signal('SIGINT');
    assert.equal(h.stops(), 1);
    assert.deepEqual(h.exits, [1]);
  });
});
