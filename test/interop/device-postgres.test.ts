// The device store contract against a real PostgreSQL (test/contracts/device-store.ts), plus what
// only a shared store has: another instance hears every approval, block and removal through
// LISTEN/NOTIFY (a block on one instance cuts the device on every other), two instances never
// auto-approve more than the rule allows between them, and after the server was stopped and
// started the listener comes back with a resync.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runDeviceStoreContract } from '../contracts/device-store.js';
import { PostgresDeviceStore } from '../../src/state/postgres-device-store.js';
import type { DeviceChange, DeviceRecord } from '../../src/state/device-store.js';
import { type PgCluster, startPostgres } from '../helpers/postgres-cluster.js';

let cluster: PgCluster;
let n = 0;
before(async () => {
  cluster = await startPostgres('devices');
});
after(async () => {
  await cluster?.destroy();
});

const urlOf = (db: string) => cluster.url.replace(/\/[^/]+$/, `/${db}`);
async function freshDb(): Promise<string> {
  const db = `devices_${n++}`;
  const c = new pg.Client({ connectionString: cluster.url });
  await c.connect();
  await c.query(`CREATE DATABASE ${db}`);
  await c.end();
  return urlOf(db);
}

runDeviceStoreContract('postgres', {
  fresh: async () => {
    const url = await freshDb();
    return { store: new PostgresDeviceStore({ url }), reopen: () => new PostgresDeviceStore({ url }) };
  },
});

const until = async (cond: () => boolean, ms = 5000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};
const rec = (o: Pick<DeviceRecord, 'user' | 'id' | 'state'>): DeviceRecord => ({ type: 'iPhone', firstSeen: Date.now(), changedAt: Date.now(), actor: 'admin:ops', ...o });

describe('PostgreSQL device store shared by two instances', () => {
  it("B hears A's approval, block, new quarantined device and removal; A does not hear itself", async () => {
    const url = await freshDb();
    const a = new PostgresDeviceStore({ url });
    const b = new PostgresDeviceStore({ url });
    const heardA: DeviceChange[] = [];
    const heardB: DeviceChange[] = [];
    a.watch((c) => heardA.push(c));
    b.watch((c) => heardB.push(c));
    try {
      await a.open();
      await b.open();
      const t0 = Date.now();
      await a.put(rec({ user: 'LAB\\dave', id: 'PhoneA', state: 'approved' }));
      await a.put(rec({ user: 'LAB\\dave', id: 'PhoneA', state: 'blocked' }));
      await a.admitNew('LAB\\dave', 'TabB', 'iPad', Date.now(), { autoApprove: 0, maxPending: 5 });
      await a.remove('lab\\DAVE', 'phonea');
      await until(() => heardB.length === 4);
      console.log(`# device changes heard by the other instance: ${Date.now() - t0} ms for 4`);
      // A notice names the row; the row is read when it arrives, so the first may already show the block.
      assert.deepEqual(heardB.map((c) => (c.kind === 'put' ? ['put', c.record.id] : c.kind === 'remove' ? ['remove', c.user, c.id] : [c.kind])), [['put', 'PhoneA'], ['put', 'PhoneA'], ['put', 'TabB'], ['remove', 'lab\\DAVE', 'phonea']]);
      const states = heardB.flatMap((c) => (c.kind === 'put' ? [c.record.state] : []));
      assert.deepEqual(states.slice(1), ['blocked', 'quarantined']);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(heardA, []);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('after the server is stopped and started, the listener comes back and resyncs', async () => {
    const url = await freshDb();
    const a = new PostgresDeviceStore({ url, reconnectMs: 200 });
    const b = new PostgresDeviceStore({ url, reconnectMs: 200 });
    const heardB: DeviceChange[] = [];
    b.watch((c) => heardB.push(c));
    try {
      await a.open();
      await b.open();
      await cluster.stop();
      await assert.rejects(b.list(), /device store postgres:\/\/127\.0\.0\.1:\d+\/devices_\d+: /);
      await cluster.start();
      const block = () => a.put(rec({ user: 'LAB\\dave', id: 'Stolen1', state: 'blocked' }));
      await block().catch(async () => {
        await new Promise((r) => setTimeout(r, 500));
        await block();
      });
      // The listener may come back before or after A's block: B learns it by the resync or by the notice.
      const seen = () => heardB.flatMap((c) => (c.kind === 'resync' ? c.records : c.kind === 'put' ? [c.record] : [])).filter((r) => r.id === 'Stolen1').map((r) => [r.id, r.state]);
      // (the notice may arrive on the new connection before the resync's read finishes)
      await until(() => seen().length > 0 && heardB.some((c) => c.kind === 'resync'), 15_000);
      const got = seen().slice(0, 1);
      assert.deepEqual(got, [['Stolen1', 'blocked']]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
