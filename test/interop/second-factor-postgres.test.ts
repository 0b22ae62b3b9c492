// The second-factor store contract against a real PostgreSQL (test/contracts/second-factor-store.ts):
// the race cases run with two stores on two connection pools, as two gateway instances would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runSecondFactorStoreContract } from '../contracts/second-factor-store.js';
import { PostgresSecondFactorStore } from '../../src/state/postgres-second-factor-store.js';
import { PostgresStateStore } from '../../src/state/postgres-state-store.js';
import { type PgCluster, startPostgres } from '../helpers/postgres-cluster.js';

let cluster: PgCluster;
let n = 0;
before(async () => {
  cluster = await startPostgres('second_factor');
});
after(async () => {
  await cluster?.destroy();
});

const urlOf = (db: string) => cluster.url.replace(/\/[^/]+$/, `/${db}`);
async function freshDb(): Promise<string> {
  const db = `second_factor_${n++}`;
  const c = new pg.Client({ connectionString: cluster.url });
  await c.connect();
  await c.query(`CREATE DATABASE ${db}`);
  await c.end();
  return urlOf(db);
}

runSecondFactorStoreContract('postgres', {
  durable: true,
  fresh: async () => {
    const url = await freshDb();
    return { store: new PostgresSecondFactorStore({ url }), another: () => new PostgresSecondFactorStore({ url }) };
  },
});

describe('PostgreSQL second-factor store', () => {
  it('two instances opening a fresh database at once migrate it once, beside the state store', async () => {
    const url = await freshDb();
    const stores = [new PostgresSecondFactorStore({ url }), new PostgresSecondFactorStore({ url }), new PostgresSecondFactorStore({ url })];
    const state = new PostgresStateStore({ url });
    try {
      await Promise.all([...stores.map((s) => s.open()), state.open(Date.now(), { threshold: 3, window: 60_000, cooldown: 300_000, attemptHold: 30_000 })]);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      const r = await c.query('SELECT count(*)::int AS n, max(version) AS v FROM portcullis_second_factor_schema');
      await c.end();
      assert.deepEqual(r.rows[0], { n: 1, v: 1 });
      assert.equal(await stores[0]!.acceptTotpStep('LAB\\alice', 7), true);
      assert.equal(await stores[2]!.acceptTotpStep('LAB\\alice', 7), false);
    } finally {
      for (const s of stores) await s.close();
      await state.close();
    }
  });

  it('with the server down a call fails with one line naming the store, and works again after', async () => {
    const url = await freshDb();
    const s = new PostgresSecondFactorStore({ url });
    try {
      await s.open();
      await cluster.stop();
      await assert.rejects(s.acceptTotpStep('LAB\\alice', 1), /^SecondFactorStoreError: second-factor store postgres:\/\/127\.0\.0\.1:\d+\/second_factor_\d+: /);
      await cluster.start();
      let ok: boolean | undefined;
      for (let i = 0; i < 20 && ok === undefined; i++) ok = await s.acceptTotpStep('LAB\\alice', 1).catch(async () => void (await new Promise((r) => setTimeout(r, 250))));
      assert.equal(ok, true);
    } finally {
      await s.close();
    }
  });
});
