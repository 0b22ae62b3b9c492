// The state store contract against a real PostgreSQL (test/contracts/state-store.ts), plus what
// only a shared store has: another instance hears every change through LISTEN/NOTIFY, and comes
// back by itself (with a resync) after the server was stopped and started again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runStateStoreContract } from '../contracts/state-store.js';
import { PostgresStateStore } from '../../src/state/postgres-state-store.js';
import type { LockoutRule, StateChange } from '../../src/state/state-store.js';
import { type PgCluster, startPostgres } from '../helpers/postgres-cluster.js';

let cluster: PgCluster;
let n = 0;
before(async () => {
  cluster = await startPostgres('state');
});
after(async () => {
  await cluster?.destroy();
});

const urlOf = (db: string) => cluster.url.replace(/\/[^/]+$/, `/${db}`);
async function freshDb(): Promise<string> {
  const db = `state_${n++}`;
  const c = new pg.Client({ connectionString: cluster.url });
  await c.connect();
  await c.query(`CREATE DATABASE ${db}`);
  await c.end();
  return urlOf(db);
}

runStateStoreContract('postgres', {
  fresh: async () => {
    const url = await freshDb();
    return { store: new PostgresStateStore({ url }), reopen: () => new PostgresStateStore({ url }) };
  },
});

const RULE: LockoutRule = { threshold: 3, window: 60_000, cooldown: 300_000, attemptHold: 30_000 };
const until = async (cond: () => boolean, ms = 5000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('PostgreSQL state store shared by two instances', () => {
  it('B hears A\'s revocation (with its reason), unrevocation, lock and unlock; A does not hear itself', async () => {
    const url = await freshDb();
    const a = new PostgresStateStore({ url });
    const b = new PostgresStateStore({ url });
    const heardA: StateChange[] = [];
    const heardB: StateChange[] = [];
    a.watch((c) => heardA.push(c));
    b.watch((c) => heardB.push(c));
    try {
      await a.open(Date.now(), RULE);
      await b.open(Date.now(), RULE);
      const now = Date.now();
      await a.putRevocation({ key: 'LAB\\bob', reason: 'x'.repeat(10_000), at: now, until: undefined });
      await until(() => heardB.length === 1);
      assert.deepEqual(heardB[0], { kind: 'revoke', revocation: { key: 'LAB\\bob', reason: 'x'.repeat(10_000), at: now, until: undefined } });
      await a.deleteRevocation('LAB\\bob', Date.now());
      for (const s of ['1', '2', '3']) {
        await a.reserve('LAB\\carol', s, now, RULE);
        await a.settle('LAB\\carol', s, 'failure', now, RULE);
      }
      await a.unlock('LAB\\carol');
      await until(() => heardB.length === 4);
      assert.deepEqual(heardB.slice(1), [
        { kind: 'unrevoke', key: 'LAB\\bob' },
        { kind: 'lock', key: 'LAB\\carol', until: now + RULE.cooldown },
        { kind: 'unlock', key: 'LAB\\carol' },
      ]);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(heardA, []);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('two instances reserving at once take exactly the threshold between them', async () => {
    const url = await freshDb();
    const a = new PostgresStateStore({ url });
    const b = new PostgresStateStore({ url });
    try {
      await a.open(Date.now(), RULE);
      await b.open(Date.now(), RULE);
      const now = Date.now();
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserve('LAB\\bob', `s${i}`, now, RULE)));
      assert.equal(answers.filter((x) => x === 'ok').length, RULE.threshold);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('after the server is stopped and started, the listener comes back and resyncs; statements fail meanwhile', async () => {
    const url = await freshDb();
    const a = new PostgresStateStore({ url, reconnectMs: 200 });
    const b = new PostgresStateStore({ url, reconnectMs: 200 });
    const heardB: StateChange[] = [];
    b.watch((c) => heardB.push(c));
    try {
      await a.open(Date.now(), RULE);
      await b.open(Date.now(), RULE);
      await cluster.stop();
      await assert.rejects(b.reserve('LAB\\bob', 's', Date.now(), RULE), /state store postgres:\/\/127\.0\.0\.1:\d+\/state_\d+: /);
      await cluster.start();
      await a.putRevocation({ key: 'LAB\\dave', reason: 'while B was away', at: Date.now(), until: undefined }).catch(async () => {
        await new Promise((r) => setTimeout(r, 500));
        await a.putRevocation({ key: 'LAB\\dave', reason: 'while B was away', at: Date.now(), until: undefined });
      });
      await until(() => heardB.some((c) => c.kind === 'resync' || c.kind === 'revoke'), 15_000);
      const resync = heardB.find((c) => c.kind === 'resync');
      const got = resync?.kind === 'resync' ? resync.snapshot.revocations.map((r) => r.key) : heardB.flatMap((c) => (c.kind === 'revoke' ? [c.revocation.key] : []));
      assert.deepEqual(got, ['LAB\\dave']);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
