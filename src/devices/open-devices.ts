// Builds the DeviceStore the `state:` section names (the same place as revocations: memory, the
// state.sqlite file, or the PostgreSQL database) and starts the instance's DeviceAuthority over it.
import path from 'node:path';
import type { Logger } from 'pino';
import { postgresPassword } from '../vocabulary/postgres-connection.js';
import { type DeviceStore, DeviceStoreError } from '../state/device-store.js';
import { MemoryDeviceStore } from '../state/memory-device-store.js';
import { PostgresDeviceStore } from '../state/postgres-device-store.js';
import { SqliteDeviceStore } from '../state/sqlite-device-store.js';
import { STATE_SQLITE_FILE, type StateConfig } from '../state/state-schema.js';
import { DeviceAuthority, type DeviceAuthorityHooks } from './device-authority.js';

export function buildDeviceStore(cfg: StateConfig): DeviceStore {
  switch (cfg.store) {
    case 'memory':
      return new MemoryDeviceStore();
    case 'sqlite':
      return new SqliteDeviceStore(path.join(cfg.dataDir, STATE_SQLITE_FILE));
    case 'postgres': {
      const pgc = cfg.postgres!;
      return new PostgresDeviceStore({ url: pgc.url, password: postgresPassword(pgc, (m) => new DeviceStoreError('postgres', m)) });
    }
  }
}

/** The authority with the store loaded; a store that cannot be opened stops the start (DeviceStoreError, one line). */
export async function openDeviceAuthority(cfg: StateConfig, log: Logger, hooks: DeviceAuthorityHooks = {}): Promise<DeviceAuthority> {
  const store = buildDeviceStore(cfg);
  const authority = new DeviceAuthority(store, log, hooks);
  try {
    await authority.start();
  } catch (e) {
    await store.close().catch(() => {});
    throw e instanceof DeviceStoreError ? e : new DeviceStoreError(store.describe, (e as Error).message);
  }
  log.info({ store: store.describe, devices: authority.registry.list().length }, 'device store open');
  return authority;
}
