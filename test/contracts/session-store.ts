// One contract for every SessionStore: memory and SQLite (src/signin/session-stores.test.ts) run
// exactly these cases. `reopen` gives a second store on the same database (another worker).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionStore, SigninSession } from '../../src/signin/session-store.js';

export interface SessionContractSubject {
  fresh(): Promise<{ store: SessionStore; reopen(): SessionStore | undefined }>;
}

const T0 = Date.UTC(2026, 11, 2, 8, 0, 0);

function session(over: Partial<SigninSession> = {}): SigninSession {
  return {
    id: 'id-alice',
    userKey: 'LAB\\alice',
    claimed: 'alice@lab.example',
    stage: 'signed-in',
    secondFactor: true,
    exchange: 'sealed-cookies',
    destination: '/owa/',
    csrf: 'token',
    createdAt: T0,
    lastSeenAt: T0,
    failures: 0,
    ...over,
  };
}

export function runSessionStoreContract(name: string, subject: SessionContractSubject): void {
  describe(`SessionStore contract: ${name}`, () => {
    it('keeps a session whole and replaces it by id', async () => {
      const { store } = await subject.fresh();
      try {
        await store.open();
        await store.put(session());
        assert.deepEqual(await store.get('id-alice'), session());
        await store.put(session({ stage: 'second-factor', secondFactor: false }));
        assert.equal((await store.get('id-alice'))?.stage, 'second-factor');
        assert.equal(await store.get('id-other'), undefined);
      } finally {
        await store.close();
      }
    });

    it('touch moves last use forward only, and swaps the sealed Exchange part when given', async () => {
      const { store } = await subject.fresh();
      try {
        await store.open();
        await store.put(session());
        await store.touch('id-alice', T0 + 5000);
        await store.touch('id-alice', T0 + 1000);
        assert.equal((await store.get('id-alice'))?.lastSeenAt, T0 + 5000);
        await store.touch('id-alice', T0 + 6000, 'renewed');
        assert.equal((await store.get('id-alice'))?.exchange, 'renewed');
        await store.touch('id-gone', T0);
      } finally {
        await store.close();
      }
    });

    it('counts second-factor failures per session', async () => {
      const { store } = await subject.fresh();
      try {
        await store.open();
        await store.put(session());
        assert.equal(await store.addFailure('id-alice'), 1);
        assert.equal(await store.addFailure('id-alice'), 2);
        assert.equal(await store.addFailure('id-gone'), 0);
      } finally {
        await store.close();
      }
    });

    it('deletes one session, every session of a user, and idle or old ones', async () => {
      const { store } = await subject.fresh();
      try {
        await store.open();
        await store.put(session());
        await store.put(session({ id: 'id-alice-2' }));
        await store.put(session({ id: 'id-bob', userKey: 'LAB\\bob' }));
        await store.put(session({ id: 'id-idle', userKey: 'LAB\\carol', lastSeenAt: T0 - 60_000 }));
        await store.put(session({ id: 'id-old', userKey: 'LAB\\dave', createdAt: T0 - 3_600_000, lastSeenAt: T0 }));
        assert.equal(await store.delete('id-alice-2'), true);
        assert.equal(await store.delete('id-alice-2'), false);
        assert.deepEqual((await store.deleteUser('lab\\ALICE')).map((x) => x.id), ['id-alice']);
        assert.deepEqual(await store.deleteUser('LAB\\alice'), []);
        assert.equal(await store.prune(T0 - 1000, T0 - 60_000), 2);
        assert.deepEqual(await store.get('id-bob'), session({ id: 'id-bob', userKey: 'LAB\\bob' }));
        assert.equal(await store.get('id-idle'), undefined);
        assert.equal(await store.get('id-old'), undefined);
      } finally {
        await store.close();
      }
    });

    it('a second store on the same database sees the sessions (another worker)', async () => {
      const { store, reopen } = await subject.fresh();
      const other = reopen();
      if (!other) return;
      try {
        await store.open();
        await other.open();
        await store.put(session());
        assert.deepEqual(await other.get('id-alice'), session());
        await other.delete('id-alice');
        assert.equal(await store.get('id-alice'), undefined);
      } finally {
        await store.close();
        await other.close();
      }
    });
  });
}
