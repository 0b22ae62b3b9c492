import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { auditSchema } from './audit-schema.js';
import { AuditStoreError } from './audit-store.js';
import pino from 'pino';
import { adoptWorkerSpools, openAuditStore, startAuditTrail, workerSpoolName } from './audit-trail.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-trail-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('audit trail set-up', () => {
  it('spools of worker slots that no longer exist go into the primary\'s spool; the others stay for their slot', () => {
    const dataDir = path.join(root, 'adopt');
    const c = auditSchema.parse({ dataDir });
    const f = (n: string, text: string) => {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(path.join(dataDir, n), text);
    };
    f(workerSpoolName(0), '{"uid":"a"}\n');
    f(workerSpoolName(3), '{"uid":"b"}\n');
    f(`${workerSpoolName(5)}.replaying`, '{"uid":"c"}');
    assert.equal(adoptWorkerSpools(c, 2), 2);
    assert.equal(readFileSync(path.join(dataDir, 'audit-spool.jsonl'), 'utf8').split('\n').filter(Boolean).sort().join(','), '{"uid":"b"},{"uid":"c"}');
    assert.ok(existsSync(path.join(dataDir, workerSpoolName(0))));
    assert.ok(!existsSync(path.join(dataDir, workerSpoolName(3))));
  });

  it('a data folder that cannot hold the database is one line at start', async () => {
    const file = path.join(root, 'not-a-dir');
    writeFileSync(file, 'x');
    await assert.rejects(() => openAuditStore(auditSchema.parse({ dataDir: file })), (e: Error) => e instanceof AuditStoreError && /^audit store .*not-a-dir.*audit\.sqlite: /.test(e.message) && !e.message.includes('\n'));
  });

  it('store off: no store', async () => {
    assert.equal(await openAuditStore(auditSchema.parse({ store: 'off' })), undefined);
  });
});

describe('audit trail start', () => {
  it('a spool folder that cannot be made is one line, also with PostgreSQL', async () => {
    const file = path.join(root, 'blocker');
    writeFileSync(file, 'x');
    const c = auditSchema.parse({ store: 'postgres', postgres: { url: 'postgres://127.0.0.1:1/audit' }, dataDir: path.join(file, 'sub') });
    await assert.rejects(() => startAuditTrail(c, pino({ level: 'silent' })), (e: Error) => e instanceof AuditStoreError && /^audit store spool .*blocker\/sub\/audit-spool\.jsonl: /.test(e.message) && !e.message.includes('\n'));
  });
});
