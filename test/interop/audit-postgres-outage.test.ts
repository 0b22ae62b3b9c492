// The audit trail's promises with PostgreSQL (issue 12): through an outage, records keep coming at
// a steady rate, PostgreSQL is stopped for 30 s and started again, and every record ends up in the
// database, in the order it was recorded, none twice, with recording never waiting for the
// database; after kill -9 at most the last commit interval is missing, as with SQLite.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { auditSchema } from '../../src/audit/audit-schema.js';
import { type AuditTrail, auditReadiness, startAuditTrail } from '../../src/audit/audit-trail.js';
import { type PgCluster, startPostgres } from '../helpers/postgres-cluster.js';
import { type KillTrial, SLACK_MS, describeTrials, killTrial } from '../helpers/audit-kill.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const RATE = 500; // records per second
const OUTAGE_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function storedSeqs(url: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ connection: string }>('SELECT connection FROM audit_records ORDER BY id');
    return r.rows.map((x) => Number(x.connection));
  } finally {
    await c.end();
  }
}

describe('audit trail with PostgreSQL: kill -9, and a 30 s outage under load', () => {
  let cluster: PgCluster;
  let dataDir: string;
  before(async () => {
    cluster = await startPostgres();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-outage-'));
  });
  after(async () => {
    await cluster.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('after kill -9 at most the last commit interval of records is missing', async () => {
    const trials: KillTrial[] = [];
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    for (let i = 0; i < 3; i++) {
      await admin.query(`CREATE DATABASE kill_${i}`);
      const url = cluster.url.replace(/\/[^/]+$/, `/kill_${i}`);
      trials.push(await killTrial({ store: 'postgres', postgres: { url }, dataDir: path.join(dataDir, `kill-${i}`), commitInterval: 200 }, 1000, () => storedSeqs(url)));
    }
    await admin.end();
    console.log(describeTrials('PostgreSQL', 1000, 200, trials));
    for (const t of trials) assert.ok(t.windowMs <= 200 + SLACK_MS, `the oldest missing record was ${t.windowMs} ms old`);
  });

  it('spools while PostgreSQL is down and replays everything in order when it is back', { timeout: 180_000 }, async (t) => {
    const config = auditSchema.parse({ store: 'postgres', postgres: { url: cluster.url }, dataDir });
    const trail = (await startAuditTrail(config, pino({ level: 'silent' }))) as AuditTrail;
    let seq = 0;
    let maxSpooled = 0;
    let maxRecordMs = 0;
    const started = Date.now();
    const load = setInterval(() => {
      const due = Math.floor(((Date.now() - started) * RATE) / 1000);
      while (seq < due) {
        const t = performance.now();
        trail.writer.record({ event: 'request', decision: 'allow', user: 'LAB\\alice', clientIp: '127.0.0.1', protocol: 'mapi', connection: seq++ });
        maxRecordMs = Math.max(maxRecordMs, performance.now() - t);
      }
      maxSpooled = Math.max(maxSpooled, trail.health().spooled);
    }, 5);
    // A failed assertion must not leave the load running: the process would never end, and the
    // interop lock with it.
    t.after(async () => {
      clearInterval(load);
      await trail.stop().catch(() => {});
    });
    const delay = monitorEventLoopDelay({ resolution: 10 });
    // The same measure with the database up, to tell the machine's own noise from the outage's.
    const baseline = monitorEventLoopDelay({ resolution: 10 });
    baseline.enable();
    await sleep(5_000);
    baseline.disable();
    assert.equal(trail.health().spooling, false);
    delay.enable();
    await cluster.stop();
    const down = Date.now();
    await sleep(OUTAGE_MS);
    assert.equal(trail.health().spooling, true, 'records go to the spool while the database is down');
    assert.equal(trail.health().writable, true, 'spooling: nothing is lost');
    const ready = auditReadiness(trail);
    assert.equal(ready.ok, true, '/readyz: spooling is ready');
    assert.match(ready.cause ?? '', /^audit store postgres:\/\/127\.0\.0\.1:\d+\/audit unavailable .*record\(s\) spooled locally/);
    const spooledAtRestart = trail.health().spooled;
    await cluster.start();
    const up = Date.now();
    delay.disable();
    let drainedAfter = -1;
    while (Date.now() - up < 60_000) {
      await sleep(100);
      if (!trail.health().spooling) {
        drainedAfter = Date.now() - up;
        break;
      }
    }
    await sleep(5_000); // the load goes on with the database back
    clearInterval(load);
    await trail.writer.flush();
    const generated = seq;
    const h = trail.health();

    const stored = await storedSeqs(cluster.url);
    console.log(
      `PostgreSQL down ${up - down} ms at ${RATE} records/s: ${generated} recorded, ${stored.length} stored, ${generated - stored.length} lost; ` +
        `${spooledAtRestart} spooled at the restart (peak ${maxSpooled}), spool replayed ${drainedAfter} ms after the restart; ` +
        `record() at most ${maxRecordMs.toFixed(2)} ms; event loop delay p99 / max: ${(baseline.percentile(99) / 1e6).toFixed(1)} / ${(baseline.max / 1e6).toFixed(1)} ms with the database up, ` +
        `${(delay.percentile(99) / 1e6).toFixed(1)} / ${(delay.max / 1e6).toFixed(1)} ms during the outage; ` +
        `lost by the writer ${h.lost}, write errors ${h.writeErrors}`,
    );
    assert.ok(drainedAfter >= 0, 'the spool was replayed after the restart');
    assert.ok(spooledAtRestart >= (RATE * OUTAGE_MS) / 1000 * 0.9, 'the outage was under load');
    assert.equal(h.lost, 0);
    assert.equal(stored.length, generated, 'none lost, none twice');
    assert.deepEqual(stored, stored.map((_, i) => i), 'in the order they were recorded');
    // And portcullis audit reads it: the newest records, oldest first.
    const cli = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'audit', '--postgres', cluster.url, '--limit', '3', '--format', 'jsonl', '--user', 'alice'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(cli.status, 0, cli.stderr);
    assert.deepEqual(cli.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { connection: number }).connection), [generated - 3, generated - 2, generated - 1]);
  });
});
