import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Answer, LookupCache } from './lookup-cache.js';

const found = (groups: string[], enabled = true): Answer => ({ status: 'found', entry: { key: 'LAB\\bob', domain: 'LAB', sam: 'bob', upn: 'bob@lab.example', mail: 'bob@lab.example', enabled, groups } });
const MIN = 60_000;

function make() {
  const clock = { t: 0 };
  const cache = new LookupCache({ ttlMs: 10 * MIN, negativeTtlMs: MIN, graceMs: 5 * MIN, refreshAhead: 0.8, idleMs: 60 * MIN, maxNegative: 3 }, () => clock.t);
  return { clock, cache };
}

describe('lookup cache', () => {
  it('serves fresh, then asks for a background refresh from refreshAhead × TTL, before the entry expires', () => {
    const { clock, cache } = make();
    cache.store('sam:bob', found(['Sales']), 'CN=bob');
    assert.equal(cache.read('sam:bob')?.freshness, 'fresh');
    assert.deepEqual(cache.sweep(), []);
    clock.t = 8 * MIN - 1;
    assert.equal(cache.read('sam:bob')?.freshness, 'fresh');
    assert.deepEqual(cache.sweep(), []);
    clock.t = 8 * MIN;
    assert.equal(cache.read('sam:bob')?.freshness, 'refresh-ahead', 'still served without waiting');
    assert.deepEqual(cache.sweep(), ['sam:bob']);
    cache.store('sam:bob', found(['Sales']), 'CN=bob');
    assert.equal(cache.read('sam:bob')?.freshness, 'fresh', 'the refresh restarts the clock');
    assert.deepEqual(cache.sweep(), []);
  });

  it('past the TTL an answer is stale (served only while the directory is down), past the grace period never', () => {
    const { clock, cache } = make();
    cache.store('sam:bob', found([]), 'CN=bob');
    clock.t = 10 * MIN;
    assert.equal(cache.read('sam:bob')?.freshness, 'stale');
    clock.t = 15 * MIN - 1;
    assert.equal(cache.read('sam:bob')?.freshness, 'stale');
    clock.t = 15 * MIN;
    assert.equal(cache.read('sam:bob')?.freshness, 'expired');
    assert.deepEqual(cache.sweep(), ['sam:bob'], 'in use: still retried in the background');
  });

  it('"no such user" lives for the negative TTL only, is never refreshed, and is bounded', () => {
    const { clock, cache } = make();
    cache.store('sam:ghost', { status: 'not-found' }, undefined);
    assert.equal(cache.read('sam:ghost')?.freshness, 'fresh');
    clock.t = MIN;
    assert.equal(cache.read('sam:ghost')?.freshness, 'stale');
    assert.deepEqual(cache.sweep(), [], 'never refreshed');
    clock.t = 6 * MIN;
    cache.sweep();
    assert.equal(cache.read('sam:ghost'), undefined, 'dropped once expired');
    for (const n of ['a', 'b', 'c', 'd', 'e']) cache.store(`sam:${n}`, { status: 'not-found' }, undefined);
    assert.deepEqual(cache.sizes, { found: 0, notFound: 3 });
    assert.equal(cache.read('sam:a'), undefined, 'oldest dropped first');
    assert.ok(cache.read('sam:e'));
  });

  it('entries nobody uses stop being refreshed and are dropped once expired', () => {
    const { clock, cache } = make();
    cache.store('sam:bob', found([]), 'CN=bob');
    clock.t = 61 * MIN;
    assert.deepEqual(cache.sweep(), [], 'idle for over an hour: not refreshed, expired: dropped');
    assert.equal(cache.sizes.found, 0);
    assert.equal(cache.dnOf('LAB\\bob'), undefined);
  });

  it('reports a changed answer about a known user (live connections are judged again), not a first answer', () => {
    const { cache } = make();
    assert.equal(cache.store('sam:bob', found(['Outlook-Remote', 'Sales']), 'CN=bob'), false);
    assert.equal(cache.store('sam:bob', found(['Outlook-Remote', 'Sales']), 'CN=bob'), false);
    assert.equal(cache.store('sam:bob', found(['Sales']), 'CN=bob'), true, 'group removed');
    assert.equal(cache.store('sam:bob', found(['Sales'], false), 'CN=bob'), true, 'disabled');
    assert.equal(cache.store('sam:bob', { status: 'not-found' }, undefined), true, 'deleted');
    assert.equal(cache.store('sam:bob', found(['Sales']), 'CN=bob'), false, 'found again: nobody to re-judge');
    assert.equal(cache.dnOf('LAB\\bob'), 'CN=bob');
  });

  it('sweeps a big cache in slices, oldest due first, with the same answer as one pass', async () => {
    const { clock, cache } = make();
    for (let i = 0; i < 5_000; i++) {
      clock.t = i;
      cache.store(`sam:u${i}`, found([]), `CN=u${i}`);
    }
    cache.store('sam:u7', found([]), 'CN=u7'); // re-stored: now the youngest
    clock.t = 9 * MIN; // every entry past refreshAhead × TTL, none idle for an hour: all due
    let pauses = 0;
    const sliced = await cache.sweepInSlices(1_000, async () => {
      pauses++;
      cache.store('sam:late', found([]), 'CN=late'); // stored while the sweep waits: allowed, fresh
    });
    assert.equal(pauses, 5, 'one pause per 1,000 entries');
    assert.equal(sliced.length, 5_000);
    assert.equal(sliced[0], 'sam:u0', 'oldest first');
    assert.equal(sliced.at(-1), 'sam:u7', 're-stored: the youngest');
    assert.deepEqual(sliced, cache.sweep(), 'the late entry is fresh: not due');
  });
});
