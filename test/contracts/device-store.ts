// One contract for every DeviceStore: memory and SQLite (src/state/device-stores.test.ts) and
// PostgreSQL (test/interop/device-postgres.test.ts) run exactly these cases. `fresh` gives a store
// on an empty database; `reopen` a second store on the same one (a restart, or another instance).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeviceRecord, DeviceStore } from '../../src/state/device-store.js';

export interface DeviceContractSubject {
  fresh(): Promise<{ store: DeviceStore; reopen(): DeviceStore | undefined }>;
}

const T0 = Date.UTC(2026, 11, 2, 8, 0, 0);
const NONE = { autoApprove: 0, maxPending: 0 };
const rec = (o: Partial<DeviceRecord> & Pick<DeviceRecord, 'user' | 'id' | 'state'>): DeviceRecord => ({ type: 'iPhone', firstSeen: T0, changedAt: T0, actor: 'admin:ops', ...o });

export function runDeviceStoreContract(name: string, subject: DeviceContractSubject): void {
  describe(`DeviceStore contract: ${name}`, () => {
    it('an approval and a block are kept per user and device, found in any case, and survive a reopen', async () => {
      const { store, reopen } = await subject.fresh();
      let again: DeviceStore | undefined;
      try {
        assert.deepEqual(await store.open(), []);
        await store.put(rec({ user: 'LAB\\Alice', id: 'ApplPhone1', state: 'approved' }));
        await store.put(rec({ user: 'LAB\\alice', id: 'androidTab', type: 'Android', state: 'blocked', firstSeen: T0 + 1, changedAt: T0 + 1 }));
        await store.put(rec({ user: 'LAB\\bob', id: 'APPLPHONE1', state: 'blocked', firstSeen: T0 + 2, changedAt: T0 + 2 }));
        const rows = await store.list();
        assert.deepEqual(rows.map((r) => [r.user, r.id, r.state]), [['LAB\\Alice', 'ApplPhone1', 'approved'], ['LAB\\alice', 'androidTab', 'blocked'], ['LAB\\bob', 'APPLPHONE1', 'blocked']]);
        // The same device of the same user in another spelling is one row: the state changes, the spelling and firstSeen stay.
        const changed = await store.put(rec({ user: 'lab\\ALICE', id: 'applphone1', type: undefined, state: 'blocked', firstSeen: T0 + 9, changedAt: T0 + 10, actor: 'console:ops' }));
        assert.deepEqual(changed, { user: 'LAB\\Alice', id: 'ApplPhone1', type: 'iPhone', state: 'blocked', firstSeen: T0, changedAt: T0 + 10, actor: 'console:ops' });
        const r = reopen();
        if (r) {
          again = r;
          const reread = await again.open();
          assert.deepEqual(reread, await store.list());
          assert.equal(reread.length, 3);
        }
      } finally {
        await store.close();
        await again?.close();
      }
    });

    it('remove forgets the device and returns what was there; removing again finds nothing', async () => {
      const { store } = await subject.fresh();
      try {
        await store.open();
        await store.put(rec({ user: 'LAB\\alice', id: 'X1', state: 'approved' }));
        assert.equal((await store.remove('lab\\ALICE', 'x1'))?.id, 'X1');
        assert.equal(await store.remove('LAB\\alice', 'X1'), undefined);
        assert.deepEqual(await store.list(), []);
      } finally {
        await store.close();
      }
    });

    it('admitNew: an existing row wins; else auto-approval up to N per user, then quarantine up to the cap, then nothing', async () => {
      const { store } = await subject.fresh();
      try {
        await store.open();
        const rule = { autoApprove: 2, maxPending: 2 };
        await store.put(rec({ user: 'LAB\\alice', id: 'blocked1', state: 'blocked' }));
        assert.equal((await store.admitNew('LAB\\alice', 'BLOCKED1', 'x', T0, rule))?.state, 'blocked', 'a blocked device is never auto-approved');
        const a = await store.admitNew('LAB\\alice', 'd1', 'iPhone', T0 + 1, rule);
        assert.deepEqual(a, { user: 'LAB\\alice', id: 'd1', type: 'iPhone', state: 'approved', firstSeen: T0 + 1, changedAt: T0 + 1, actor: 'auto-approve' });
        assert.equal((await store.admitNew('LAB\\alice', 'd2', 'iPhone', T0 + 2, rule))?.state, 'approved');
        const q = await store.admitNew('lab\\alice', 'd3', 'Android', T0 + 3, rule);
        assert.deepEqual([q?.state, q?.actor], ['quarantined', 'quarantine']);
        assert.equal((await store.admitNew('LAB\\alice', 'd4', 'Android', T0 + 4, rule))?.state, 'quarantined');
        assert.equal(await store.admitNew('LAB\\alice', 'd5', 'Android', T0 + 5, rule), undefined, 'the quarantine cap is reached');
        assert.equal((await store.admitNew('LAB\\alice', 'D1', 'other', T0 + 6, rule))?.type, 'iPhone', 'a known device stays as it was');
        // Counts are per user.
        assert.equal((await store.admitNew('LAB\\bob', 'd1', 'iPhone', T0 + 7, rule))?.state, 'approved');
        assert.equal(await store.admitNew('LAB\\carol', 'c1', 'iPhone', T0 + 8, NONE), undefined, 'with no auto-approval and no quarantine nothing is made');
        assert.equal((await store.list()).length, 6);
      } finally {
        await store.close();
      }
    });

    it('admitNew is atomic: ten devices at once get exactly the user\'s free auto-approvals', async () => {
      const { store, reopen } = await subject.fresh();
      const other = reopen();
      try {
        await store.open();
        await other?.open();
        const stores = other ? [store, other] : [store];
        const got = await Promise.all(Array.from({ length: 10 }, (_, i) => stores[i % stores.length]!.admitNew('LAB\\alice', `dev${i}`, 'iPhone', T0 + i, { autoApprove: 3, maxPending: 4 })));
        assert.equal(got.filter((r) => r?.state === 'approved').length, 3);
        assert.equal(got.filter((r) => r?.state === 'quarantined').length, 4);
        assert.equal(got.filter((r) => r === undefined).length, 3);
      } finally {
        await store.close();
        await other?.close();
      }
    });
  });
}
