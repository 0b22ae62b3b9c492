// The device store contract against the embedded stores (PostgreSQL: test/interop/device-postgres.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { runDeviceStoreContract } from '../../test/contracts/device-store.js';
import { MemoryDeviceStore } from './memory-device-store.js';
import { SqliteDeviceStore } from './sqlite-device-store.js';
import { SqliteStateStore } from './sqlite-state-store.js';
import assert from 'node:assert/strict';
import { it } from 'node:test';

const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-devices-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runDeviceStoreContract('memory', { fresh: async () => ({ store: new MemoryDeviceStore(), reopen: () => undefined }) });
runDeviceStoreContract('sqlite', {
  fresh: async () => {
    const file = path.join(dir, `s${n++}`, 'state.sqlite');
    return { store: new SqliteDeviceStore(file), reopen: () => new SqliteDeviceStore(file) };
  },
});

it('the device table lives in state.sqlite beside the state store, each with its own schema version', async () => {
  const file = path.join(dir, 'shared', 'state.sqlite');
  const state = new SqliteStateStore(file);
  const devices = new SqliteDeviceStore(file);
  try {
    await state.open(0, { threshold: 3, window: 1000, cooldown: 1000, attemptHold: 1000 });
    await devices.open();
    await devices.put({ user: 'LAB\\alice', id: 'X', type: 'iPhone', state: 'approved', firstSeen: 1, changedAt: 1, actor: 'admin' });
    await state.putRevocation({ key: 'LAB\\bob', reason: 'r', at: 1, until: undefined });
  } finally {
    await state.close();
    await devices.close();
  }
  const again = new SqliteDeviceStore(file);
  assert.equal((await again.open()).length, 1);
  await again.close();
});
