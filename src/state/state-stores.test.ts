// The state store contract against the embedded stores (PostgreSQL: test/interop/state-postgres.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { runStateStoreContract } from '../../test/contracts/state-store.js';
import { MemoryStateStore } from './memory-state-store.js';
import { SqliteStateStore } from './sqlite-state-store.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runStateStoreContract('memory', { fresh: async () => ({ store: new MemoryStateStore(), reopen: () => undefined }) });
runStateStoreContract('sqlite', {
  fresh: async () => {
    const file = path.join(dir, `s${n++}`, 'state.sqlite');
    return { store: new SqliteStateStore(file), reopen: () => new SqliteStateStore(file) };
  },
});
