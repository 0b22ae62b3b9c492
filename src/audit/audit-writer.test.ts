import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { type AuditRecord, makeRecord } from './audit-record.js';
import { AuditSpool } from './audit-spool.js';
import type { AuditStore } from './audit-store.js';
import { AuditWriter } from './audit-writer.js';
import { auditReadiness } from './audit-trail.js';
import { SqliteAuditStore } from './sqlite-store.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-writer-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A real SQLite store that can be made unavailable, and counts its transactions. */
class FlakyStore implements AuditStore {
  readonly inner: SqliteAuditStore;
  readonly describe = 'flaky';
  down = false;
  appends = 0;
  hold: Promise<void> | undefined;
  constructor(file: string) {
    this.inner = new SqliteAuditStore(file);
  }
  migrate(t?: number) {
    return this.down ? Promise.reject(new Error('connection refused')) : this.inner.migrate(t);
  }
  schemaVersion() {
    return this.inner.schemaVersion();
  }
  async append(r: readonly AuditRecord[]) {
    if (this.hold) await this.hold;
    if (this.down) throw new Error('connection refused');
    this.appends++;
    return this.inner.append(r);
  }
  query(...a: Parameters<AuditStore['query']>) {
    return this.inner.query(...a);
  }
  prune(b: number) {
    return this.inner.prune(b);
  }
  close() {
    return this.inner.close();
  }
}

function setup(o: { maxQueue?: number; retentionDays?: number } = {}) {
  const dir = path.join(root, `w${n++}`);
  const store = new FlakyStore(path.join(dir, 'audit.sqlite'));
  const spool = new AuditSpool(path.join(dir, 'audit-spool.jsonl'));
  const writer = new AuditWriter(store, spool, { commitIntervalMs: 20, maxQueue: o.maxQueue ?? 10_000, retentionDays: o.retentionDays ?? 0, retryMs: 20 });
  return { dir, store, spool, writer };
}

const seqs = async (s: AuditStore) => (await s.query({})).map((r) => r.connection);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('AuditWriter', () => {
  it('commits what record() queued in one transaction per interval, without the caller waiting', async () => {
    const { store, writer } = setup();
    await writer.start();
    const t = performance.now();
    for (let i = 0; i < 500; i++) writer.record({ event: 'request', connection: i });
    assert.ok(performance.now() - t < 50, 'record() is a queue push');
    assert.equal(store.appends, 0, 'nothing is written on the caller\'s turn');
    await sleep(80);
    assert.equal(store.appends, 1);
    assert.deepEqual(await seqs(store), Array.from({ length: 500 }, (_, i) => i));
    await writer.close();
  });

  it('spools while the store is down and replays in order when it is back, none lost, none twice', async () => {
    const { store, writer, spool } = setup();
    await writer.start();
    let i = 0;
    for (; i < 100; i++) writer.record({ event: 'request', connection: i });
    await sleep(60);
    store.down = true;
    for (; i < 300; i++) {
      writer.record({ event: 'request', connection: i });
      if (i % 20 === 0) await sleep(10);
    }
    await sleep(60);
    assert.equal(writer.health().spooling, true);
    assert.ok(spool.size > 0);
    assert.equal(writer.health().writable, true, 'spooling counts as writable: nothing is lost');
    const ready = auditReadiness({ writer, health: () => writer.health(), stop: () => writer.close() });
    assert.equal(ready.ok, true);
    assert.match(ready.cause!, /unavailable \(connection refused\): \d+ record\(s\) spooled locally/);
    store.down = false;
    for (; i < 400; i++) writer.record({ event: 'request', connection: i });
    await sleep(150);
    assert.equal(writer.health().spooling, false);
    assert.deepEqual(await seqs(store), Array.from({ length: 400 }, (_, k) => k));
    await writer.close();
  });

  it('a full queue goes to the spool instead of growing; the order holds when a batch in flight fails', async () => {
    const { store, writer } = setup({ maxQueue: 100 });
    await writer.start();
    let release!: () => void;
    store.hold = new Promise((r) => (release = r));
    let i = 0;
    for (; i < 10; i++) writer.record({ event: 'request', connection: i });
    await sleep(40); // the 10 are in flight, held
    store.down = true;
    for (; i < 350; i++) writer.record({ event: 'request', connection: i });
    assert.ok(writer.health().queued < 100);
    release();
    store.hold = undefined;
    await sleep(40);
    store.down = false;
    await sleep(150);
    await writer.flush();
    assert.deepEqual(await seqs(store), Array.from({ length: 350 }, (_, k) => k));
    await writer.close();
  });

  it('replays a spool left by a previous run before new records, skipping a torn last line', async () => {
    const dir = path.join(root, `w${n++}`);
    const spoolFile = path.join(dir, 'audit-spool.jsonl');
    const first = new AuditSpool(spoolFile);
    first.append([makeRecord({ event: 'request', connection: 0 }), makeRecord({ event: 'request', connection: 1 })]);
    appendFileSync(spoolFile, '{"uid":"torn","ts":1,"ev');
    const store = new FlakyStore(path.join(dir, 'audit.sqlite'));
    const writer = new AuditWriter(store, new AuditSpool(spoolFile), { commitIntervalMs: 20, maxQueue: 1000, retentionDays: 0, retryMs: 20 });
    await writer.start();
    writer.record({ event: 'request', connection: 2 });
    await sleep(100);
    await writer.flush();
    assert.deepEqual(await seqs(store), [0, 1, 2]);
    await writer.close();
  });

  it('starts with the store down: spools, then migrates and replays', async () => {
    const { store, writer } = setup();
    store.down = true;
    await writer.start();
    writer.record({ event: 'reload', actor: 'SIGHUP' });
    await sleep(60);
    assert.equal(writer.health().spooling, true);
    store.down = false;
    await sleep(100);
    assert.equal((await store.query({ event: 'reload' })).length, 1);
    await writer.close();
  });

  it('when neither the store nor the spool can be written, records are counted lost and readiness fails', async () => {
    const dir = path.join(root, `w${n++}`);
    const store = new FlakyStore(path.join(dir, 'audit.sqlite'));
    mkdirSync(path.join(dir, 'spool-is-a-folder'), { recursive: true });
    const writer = new AuditWriter(store, new AuditSpool(path.join(dir, 'spool-is-a-folder')), { commitIntervalMs: 20, maxQueue: 1000, retentionDays: 0, retryMs: 20 });
    await writer.start();
    const trail = { writer, health: () => writer.health(), stop: () => writer.close() };
    assert.deepEqual(auditReadiness(trail), { ok: true });
    store.down = true;
    writer.record({ event: 'reload' });
    await sleep(80);
    assert.equal(writer.health().writable, false);
    assert.equal(writer.health().lost, 1);
    assert.equal(auditReadiness(trail).ok, false);
    assert.match(auditReadiness(trail).cause!, /audit records are being lost/);
    store.down = false;
    await writer.close();
  });

  it('prunes records older than the retention at start', async () => {
    const { store, writer } = setup({ retentionDays: 30 });
    await store.inner.migrate();
    await store.inner.append([makeRecord({ event: 'request', ts: Date.now() - 31 * 86_400_000 }), makeRecord({ event: 'request', ts: Date.now() - 29 * 86_400_000 })]);
    await writer.start();
    assert.equal((await store.query({})).length, 1);
    await writer.close();
  });
});
