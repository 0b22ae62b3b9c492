import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from './commands-audit.js';
import { LATEST_VERSION } from '../audit/migrations.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-audit-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const config = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('portcullis audit: which trail', () => {
  const cases: Array<[string, Parameters<typeof openStore>[0], RegExp]> = [
    ['no trail named', {}, /^name the audit trail with exactly one of -c <gateway config>, --sqlite <file> or --postgres <url>$/],
    ['two trails named', { sqlite: 'a', postgres: 'postgres://h/db' }, /^name the audit trail with exactly one/],
    ['a SQLite file that does not exist', { sqlite: path.join(dir, 'none.sqlite') }, /^no audit trail at .*none\.sqlite \(the file does not exist\)$/],
    ['a URL that is not PostgreSQL', { postgres: 'mysql://h/db' }, /^--postgres must be a postgres:\/\/ URL, not "mysql:\/\/h\/db"$/],
    ['a config with the trail off', { config: config('off.yaml', 'audit:\n  store: off\n') }, /has audit\.store: off: there is no audit trail to read$/],
    ['a config whose gateway never ran', { config: config('new.yaml', 'audit:\n  dataDir: never\n') }, /^no audit trail yet at .*never\/audit\.sqlite \(has the gateway run with this config\?\)$/],
    ['a config with a bad audit section, with its line', { config: config('bad.yaml', 'listeners: []\naudit:\n  level: everything\n') }, /bad\.yaml:3:\d+: audit\.level: /],
  ];
  for (const [what, o, message] of cases) {
    it(what, async () => {
      await assert.rejects(() => openStore(o), (e: Error) => message.test(e.message.split('\n')[0]!));
    });
  }

  it('reads only the audit section: a config whose certificates it cannot read is fine', async () => {
    const f = config('gw.yaml', 'listeners:\n  - port: 443\n    tls: { certificates: [{ cert: /nonexistent.crt, key: /nonexistent.key }] }\naudit:\n  dataDir: gw\n');
    const { SqliteAuditStore } = await import('../audit/sqlite-store.js');
    const s = new SqliteAuditStore(path.join(dir, 'gw', 'audit.sqlite'));
    await s.migrate();
    await s.close();
    const store = await openStore({ config: f });
    assert.equal(await store.schemaVersion(), LATEST_VERSION);
    await store.close();
  });
});
