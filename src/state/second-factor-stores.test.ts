// The second-factor store contract against the embedded stores (PostgreSQL:
// test/interop/second-factor-postgres.test.ts), and what only SQLite has: its own tables beside the
// state store's in the one state.sqlite, each with its own schema version.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { runSecondFactorStoreContract } from '../../test/contracts/second-factor-store.js';
import { MemorySecondFactorData, MemorySecondFactorStore } from './memory-second-factor-store.js';
import { buildSecondFactorStore } from './open-second-factor-store.js';
import { SqliteSecondFactorStore } from './sqlite-second-factor-store.js';
import { SqliteStateStore } from './sqlite-state-store.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-2fa-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runSecondFactorStoreContract('memory', {
  durable: false,
  fresh: async () => {
    const data = new MemorySecondFactorData();
    return { store: new MemorySecondFactorStore(data), another: () => new MemorySecondFactorStore(data) };
  },
});
runSecondFactorStoreContract('sqlite', {
  durable: true,
  fresh: async () => {
    const file = path.join(dir, `s${n++}`, 'state.sqlite');
    return { store: new SqliteSecondFactorStore(file), another: () => new SqliteSecondFactorStore(file) };
  },
});

describe('SQLite second-factor store beside the state store', () => {
  it('shares state.sqlite with the state store, in either opening order, and creates it private', async () => {
    const RULE = { threshold: 3, window: 60_000, cooldown: 300_000, attemptHold: 30_000 };
    for (const order of ['state-first', 'second-factor-first']) {
      const dataDir = path.join(dir, `both-${order}`);
      const file = path.join(dataDir, 'state.sqlite');
      const sf = buildSecondFactorStore({ store: 'sqlite', dataDir, postgres: undefined });
      const st = new SqliteStateStore(file);
      if (order === 'state-first') {
        await st.open(Date.now(), RULE);
        await sf.open();
      } else {
        await sf.open();
        await st.open(Date.now(), RULE);
        assert.equal(statSync(file).mode & 0o777, 0o600);
      }
      assert.equal(sf.describe, file);
      await st.putRevocation({ key: 'LAB\\bob', reason: 'r', at: 1, until: undefined });
      assert.equal(await sf.acceptTotpStep('LAB\\bob', 1), true);
      await sf.close();
      await st.close();
      const db = new DatabaseSync(file);
      const versions = db.prepare("SELECT (SELECT max(version) FROM state_schema) AS st, (SELECT max(version) FROM second_factor_schema) AS sf").get() as { st: number; sf: number };
      db.close();
      assert.deepEqual({ ...versions }, { st: 1, sf: 1 });
    }
  });

  it('race across threads, each on its own connection: every time step is won exactly once', async () => {
    const file = path.join(dir, 'race', 'state.sqlite');
    const first = new SqliteSecondFactorStore(file);
    await first.open();
    await first.close();
    const go = new SharedArrayBuffer(4);
    const STEPS = 2000;
    const racers = [0, 1, 2].map(() => new Worker(new URL('../../test/helpers/sqlite-step-racer.ts', import.meta.url), { workerData: { file, steps: STEPS, go } }));
    const ready = racers.map((w) => new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject))));
    await Promise.all(ready); // every thread opened its connection and waits for the go
    const results = racers.map((w) => new Promise<number[]>((resolve, reject) => (w.once('message', resolve), w.once('error', reject))));
    Atomics.store(new Int32Array(go), 0, 1);
    Atomics.notify(new Int32Array(go), 0);
    const won = (await Promise.all(results)).flat().sort((a, b) => a - b);
    assert.deepEqual(won, Array.from({ length: STEPS }, (_, i) => i + 1));
  });

  it('refuses a schema newer than it knows, naming the file', async () => {
    const file = path.join(dir, 'newer', 'state.sqlite');
    const s = new SqliteSecondFactorStore(file);
    await s.open();
    await s.close();
    const db = new DatabaseSync(file);
    db.prepare('INSERT INTO second_factor_schema (version, applied_at) VALUES (99, 0)').run();
    db.close();
    await assert.rejects(new SqliteSecondFactorStore(file).open(), (e: Error) => e.message.startsWith(`second-factor store ${file}: second_factor_schema version 99 is newer`));
  });

  it('a call before open fails with one line naming the store', async () => {
    await assert.rejects(new SqliteSecondFactorStore('/nonexistent/x.sqlite').activeTotp('LAB\\a'), /second-factor store \/nonexistent\/x\.sqlite: not open/);
  });
});
