// One contract for every StateStore: memory and SQLite (src/state/state-stores.test.ts) and
// PostgreSQL (test/interop/state-postgres.test.ts) run exactly these cases. `open` gives a store
// on a fresh database; `reopen` a second store on the same one (a restart, or another instance).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LockoutRule, StateStore } from '../../src/state/state-store.js';

export interface StateContractSubject {
  /** A store on an empty database, opened by the test. */
  fresh(): Promise<{ store: StateStore; reopen(): StateStore | undefined }>;
}

const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const RULE: LockoutRule = { threshold: 3, window: 60_000, cooldown: 300_000, attemptHold: 30_000 };

export function runStateStoreContract(name: string, subject: StateContractSubject): void {
  describe(`StateStore contract: ${name}`, () => {
    it('a revocation is kept with its reason and expiry, and ends on its own', async () => {
      const { store } = await subject.fresh();
      try {
        await store.open(T0, RULE);
        await store.putRevocation({ key: 'LAB\\Dave', reason: 'stolen phone', at: T0, until: undefined });
        await store.putRevocation({ key: 'LAB\\erin', reason: 'for an hour', at: T0, until: T0 + 3_600_000 });
        assert.deepEqual(await store.revocation('lab\\dave', T0), { key: 'LAB\\Dave', reason: 'stolen phone', at: T0, until: undefined });
        const snap = await store.snapshot(T0 + 1000, RULE);
        assert.deepEqual(snap.revocations.map((r) => r.key).sort(), ['LAB\\Dave', 'LAB\\erin']);
        assert.equal(await store.revocation('LAB\\erin', T0 + 3_600_000), undefined, 'expired');
        assert.deepEqual((await store.snapshot(T0 + 3_600_001, RULE)).revocations.map((r) => r.key), ['LAB\\Dave']);
        assert.equal(await store.deleteRevocation('LAB\\DAVE', T0 + 5), true);
        assert.equal(await store.deleteRevocation('LAB\\dave', T0 + 6), false, 'already gone');
        assert.equal(await store.revocation('LAB\\dave', T0 + 7), undefined);
      } finally {
        await store.close();
      }
    });

    it('a revocation made again replaces the first (reason and expiry)', async () => {
      const { store } = await subject.fresh();
      try {
        await store.open(T0, RULE);
        await store.putRevocation({ key: 'LAB\\dave', reason: 'one', at: T0, until: T0 + 10 });
        await store.putRevocation({ key: 'LAB\\dave', reason: 'two', at: T0 + 1, until: undefined });
        assert.deepEqual(await store.revocation('LAB\\dave', T0 + 100), { key: 'LAB\\dave', reason: 'two', at: T0 + 1, until: undefined });
      } finally {
        await store.close();
      }
    });

    it('slots: failures plus attempts in flight never exceed the threshold', async () => {
      const { store } = await subject.fresh();
      try {
        await store.open(T0, RULE);
        assert.equal(await store.reserve('LAB\\bob', 'a', T0, RULE), 'ok');
        assert.equal(await store.reserve('lab\\BOB', 'b', T0, RULE), 'ok');
        assert.equal(await store.reserve('LAB\\bob', 'c', T0, RULE), 'ok');
        assert.equal(await store.reserve('LAB\\bob', 'd', T0, RULE), 'full');
        assert.equal(await store.reserve('LAB\\alice', 'e', T0, RULE), 'ok', 'another user is not held up');
        assert.equal(await store.settle('LAB\\bob', 'a', 'none', T0 + 1, RULE), undefined);
        assert.equal(await store.reserve('LAB\\bob', 'd', T0 + 1, RULE), 'ok', 'a freed slot can be taken');
      } finally {
        await store.close();
      }
    });

    it('concurrent reservations take exactly the threshold', async () => {
      const { store } = await subject.fresh();
      try {
        await store.open(T0, RULE);
        const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => store.reserve('LAB\\bob', `s${i}`, T0, RULE)));
        assert.equal(answers.filter((a) => a === 'ok').length, RULE.threshold);
      } finally {
        await store.close();
      }
    });

    it('the threshold-th failure locks once; a lock refuses, ends after the cooldown with the failures', async () => {
      const { store } = await subject.fresh();
      try {
        await store.open(T0, RULE);
        const locks: Array<number | undefined> = [];
        for (const s of ['a', 'b', 'c']) {
          assert.equal(await store.reserve('LAB\\bob', s, T0, RULE), 'ok');
          locks.push(await store.settle('LAB\\bob', s, 'failure', T0 + 10, RULE));
        }
        assert.deepEqual(locks, [undefined, undefined, T0 + 10 + RULE.cooldown]);
        assert.equal(await store.reserve('LAB\\bob', 'd', T0 + 20, RULE), 'locked-out');
        const snap = await store.snapshot(T0 + 20, RULE);
        assert.deepEqual(snap.locks, [{ key: 'LAB\\bob', until: T0 + 10 + RULE.cooldown }]);
        assert.deepEqual(snap.failures, [{ key: 'LAB\\bob', count: 3 }]);
        assert.equal(await store.reserve('LAB\\bob', 'e', T0 + 10 + RULE.cooldown + 1, RULE), 'ok', 'the lock ran out and took its failures');
      } finally {
        await store.close();
      }
    });

    it('failures outside the window do not count; a success forgets them', async () => {
      const { store } = await subject.fresh();
      try {
        await store.open(T0, RULE);
        for (const [s, t] of [['a', T0], ['b', T0 + 1]] as const) {
          await store.reserve('LAB\\bob', s, t, RULE);
          await store.settle('LAB\\bob', s, 'failure', t, RULE);
        }
        const late = T0 + RULE.window + 2;
        await store.reserve('LAB\\bob', 'c', late, RULE);
        assert.equal(await store.settle('LAB\\bob', 'c', 'failure', late, RULE), undefined, 'two old failures fell out of the window');
        await store.reserve('LAB\\bob', 'd', late, RULE);
        await store.settle('LAB\\bob', 'd', 'success', late, RULE);
        assert.deepEqual((await store.snapshot(late, RULE)).failures, []);
      } finally {
        await store.close();
      }
    });

    it('a slot of an instance that died frees itself after attemptHold', async () => {
      const { store } = await subject.fresh();
      try {
        await store.open(T0, RULE);
        for (const s of ['a', 'b', 'c']) await store.reserve('LAB\\bob', s, T0, RULE);
        assert.equal(await store.reserve('LAB\\bob', 'd', T0 + RULE.attemptHold - 1, RULE), 'full');
        assert.equal(await store.reserve('LAB\\bob', 'd', T0 + RULE.attemptHold, RULE), 'ok');
      } finally {
        await store.close();
      }
    });

    it('unlock ends the lock and forgets the failures; putLock keeps the later end', async () => {
      const { store } = await subject.fresh();
      try {
        await store.open(T0, RULE);
        await store.putLock({ key: 'LAB\\bob', until: T0 + 1000 });
        await store.putLock({ key: 'LAB\\bob', until: T0 + 500 });
        assert.deepEqual((await store.snapshot(T0, RULE)).locks, [{ key: 'LAB\\bob', until: T0 + 1000 }]);
        assert.equal(await store.reserve('LAB\\bob', 'a', T0, RULE), 'locked-out');
        await store.unlock('lab\\bob');
        assert.deepEqual((await store.snapshot(T0, RULE)).locks, []);
        assert.equal(await store.reserve('LAB\\bob', 'a', T0, RULE), 'ok');
      } finally {
        await store.close();
      }
    });

    it('a restart forgets nothing: revocations, locks and failures are there when opened again', async () => {
      const { store, reopen } = await subject.fresh();
      await store.open(T0, RULE);
      await store.putRevocation({ key: 'LAB\\dave', reason: 'left the company', at: T0, until: undefined });
      await store.reserve('LAB\\carol', 'a', T0, RULE);
      await store.settle('LAB\\carol', 'a', 'failure', T0, RULE);
      for (const s of ['b', 'c', 'd']) {
        await store.reserve('LAB\\bob', s, T0, RULE);
        await store.settle('LAB\\bob', s, 'failure', T0, RULE);
      }
      await store.close();
      const again = reopen();
      if (!again) return; // memory: nothing survives a restart, by definition
      try {
        const snap = await again.open(T0 + 1, RULE);
        assert.deepEqual(snap.revocations, [{ key: 'LAB\\dave', reason: 'left the company', at: T0, until: undefined }]);
        assert.deepEqual(snap.locks, [{ key: 'LAB\\bob', until: T0 + RULE.cooldown }]);
        assert.deepEqual([...snap.failures].sort((a, b) => a.key.localeCompare(b.key)), [{ key: 'LAB\\bob', count: 3 }, { key: 'LAB\\carol', count: 1 }]);
      } finally {
        await again.close();
      }
    });
  });
}
