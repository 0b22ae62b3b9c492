// The durability promise of the audit trail (issue 12): after kill -9 at most the records of the
// last commit interval are missing, and everything older is in the store, without gaps.
// (The same trial against PostgreSQL: test/interop/audit-postgres-outage.test.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { type KillTrial, SLACK_MS, describeTrials, killTrial } from './helpers/audit-kill.js';

const COMMIT_MS = 200;
const RATE = 1000;

const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-kill-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('audit trail durability', () => {
  it(`SQLite: after kill -9 at most the last commit interval (${COMMIT_MS} ms) of records is missing`, async () => {
    const trials: KillTrial[] = [];
    for (let i = 0; i < 5; i++) {
      const dataDir = path.join(root, `t${i}`);
      trials.push(
        await killTrial({ store: 'sqlite', dataDir, commitInterval: COMMIT_MS }, RATE, async () => {
          const db = new DatabaseSync(path.join(dataDir, 'audit.sqlite'));
          try {
            assert.equal((db.prepare('PRAGMA integrity_check').get() as Record<string, string>)['integrity_check'], 'ok');
            return (db.prepare('SELECT connection FROM audit_records ORDER BY id').all() as Array<{ connection: number }>).map((r) => r.connection);
          } finally {
            db.close();
          }
        }),
      );
    }
    console.log(describeTrials('SQLite', RATE, COMMIT_MS, trials));
    for (const t of trials) {
      assert.ok(t.committed > RATE, 'the store was written all along');
      assert.ok(t.windowMs <= COMMIT_MS + SLACK_MS, `records older than the commit interval were lost: the oldest missing one was ${t.windowMs} ms old`);
    }
  });
});
