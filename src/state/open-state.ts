// Builds the state store the `state:` section names and starts the instance's authority over it.
import { postgresPassword } from '../vocabulary/postgres-connection.js';
import path from 'node:path';
import type { Logger } from 'pino';
import type { LockoutConfig } from '../policy/policy-schema.js';
import { MemoryStateStore } from './memory-state-store.js';
import { PostgresStateStore } from './postgres-state-store.js';
import { SqliteStateStore } from './sqlite-state-store.js';
import { STATE_SQLITE_FILE, type StateConfig } from './state-schema.js';
import { type StateStore, StateStoreError } from './state-store.js';
import { type AuthorityHooks, UserStateAuthority } from './user-state-authority.js';
import type { Readiness } from '../health/readiness.js';

export function buildStateStore(cfg: StateConfig): StateStore {
  switch (cfg.store) {
    case 'memory':
      return new MemoryStateStore();
    case 'sqlite':
      return new SqliteStateStore(path.join(cfg.dataDir, STATE_SQLITE_FILE));
    case 'postgres': {
      const pgc = cfg.postgres!;
      return new PostgresStateStore({ url: pgc.url, password: postgresPassword(pgc, (m) => new StateStoreError('postgres', m)) });
    }
  }
}

/**
 * The instance's authority, with what the store holds loaded. A store that cannot be opened stops
 * the start: without it a revoked user would be let in again (StateStoreError, one line).
 */
export async function openAuthority(cfg: StateConfig, lockout: LockoutConfig, log: Logger, hooks: AuthorityHooks = {}): Promise<UserStateAuthority> {
  const store = buildStateStore(cfg);
  const authority = new UserStateAuthority(store, lockout, log, hooks);
  try {
    await authority.start();
  } catch (e) {
    await store.close().catch(() => {});
    throw e instanceof StateStoreError ? e : new StateStoreError(store.describe, (e as Error).message);
  }
  const s = authority.users;
  log.info({ store: store.describe, revocations: s.revocations().length, locks: s.activeLocks().length }, 'state store open');
  return authority;
}

/** /readyz names an unreachable shared store, but stays ready: the instance serves with what it knows. */
export function registerStateReadiness(readiness: Readiness, authority: UserStateAuthority): void {
  readiness.register('state', () => (authority.reachable ? { ok: true } : { ok: true, cause: `state store ${authority.describe} unreachable: serving with the last known revocations and locks` }));
}
