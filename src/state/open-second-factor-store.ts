// Builds the second factor's store beside the state store the `state:` section names (open-state.ts):
// the same backend and place, so one database or one state.sqlite holds a user's revocation and
// second factor alike, and `second-factor reset` works wherever the state does.
import path from 'node:path';
import { postgresPassword } from '../vocabulary/postgres-connection.js';
import { MemorySecondFactorStore } from './memory-second-factor-store.js';
import { PostgresSecondFactorStore } from './postgres-second-factor-store.js';
import { type SecondFactorStore, SecondFactorStoreError } from './second-factor-store.js';
import { SqliteSecondFactorStore } from './sqlite-second-factor-store.js';
import { STATE_SQLITE_FILE, type StateConfig } from './state-schema.js';

/** Not yet opened: the caller opens it (and closes it). */
export function buildSecondFactorStore(cfg: StateConfig): SecondFactorStore {
  switch (cfg.store) {
    case 'memory':
      return new MemorySecondFactorStore();
    case 'sqlite':
      return new SqliteSecondFactorStore(path.join(cfg.dataDir, STATE_SQLITE_FILE));
    case 'postgres': {
      const pgc = cfg.postgres!;
      return new PostgresSecondFactorStore({ url: pgc.url, password: postgresPassword(pgc, (m) => new SecondFactorStoreError('postgres', m)) });
    }
  }
}
