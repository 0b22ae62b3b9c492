import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { runAuditStoreContract } from '../../test/contracts/audit-store.js';
import { SqliteAuditStore } from './sqlite-store.js';
import { ThreadedSqliteStore } from './sqlite-thread.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runAuditStoreContract('sqlite', async () => {
  const store = new SqliteAuditStore(path.join(dir, `a${n++}`, 'audit.sqlite'));
  return { store, exec: (sql) => store.exec(sql) };
});

// What the gateway writes through: the same store on its own thread.
runAuditStoreContract('sqlite on the writer thread', async () => {
  const store = new ThreadedSqliteStore(path.join(dir, `a${n++}`, 'audit.sqlite'));
  return { store, exec: (sql) => store.exec(sql) };
});

it('the trail names users and addresses: the database and its WAL are readable by the gateway\'s user only', async () => {
  const file = path.join(dir, 'modes', 'audit.sqlite');
  const store = new SqliteAuditStore(file);
  await store.migrate();
  for (const f of [file, `${file}-wal`]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
  assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
  await store.close();
});
