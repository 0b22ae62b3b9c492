// The session store contract against both implementations.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { runSessionStoreContract } from '../../test/contracts/session-store.js';
import { MemorySessionStore } from './memory-session-store.js';
import { SqliteSessionStore } from './sqlite-session-store.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-sessions-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runSessionStoreContract('memory', { fresh: async () => ({ store: new MemorySessionStore(), reopen: () => undefined }) });
runSessionStoreContract('sqlite', {
  fresh: async () => {
    const file = path.join(dir, `s${n++}`, 'state.sqlite');
    return { store: new SqliteSessionStore(file), reopen: () => new SqliteSessionStore(file) };
  },
});

it('the SQLite file is created readable by its owner only', async () => {
  const file = path.join(dir, 'mode', 'state.sqlite');
  const s = new SqliteSessionStore(file);
  await s.open();
  await s.close();
  assert.equal(statSync(file).mode & 0o777, 0o600);
});
