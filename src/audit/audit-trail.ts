// The audit trail as the runtime starts it from the `audit:` config: the store, the spool in the
// data folder, the writer, and the state the metrics read.
import { appendFileSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { emit, events } from '../events.js';
import { type AuditConfig, SQLITE_FILE } from './audit-schema.js';
import { AuditSpool, SPOOL_FILE } from './audit-spool.js';
import { type AuditStore, AuditStoreError } from './audit-store.js';
import { type AuditHealth, AuditWriter } from './audit-writer.js';
import { PostgresAuditStore } from './postgres-store.js';
import type { SqliteAuditStore } from './sqlite-store.js';
import { ThreadedSqliteStore } from './sqlite-thread.js';
import { postgresPassword } from '../vocabulary/postgres-connection.js';

/**
 * node:sqlite is loaded only for a SQLite store: a Node without it (before 22.5) gets one line
 * naming the way out, not a failure of every command at import.
 */
export async function loadSqlite(file: string): Promise<typeof SqliteAuditStore> {
  try {
    return (await import('./sqlite-store.js')).SqliteAuditStore;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_BUILTIN_MODULE') throw e;
    throw new AuditStoreError(file, `needs node:sqlite (Node 22.5 or later), and this is Node ${process.versions.node}: run the Node the project brings (node_modules/.bin/node), or set audit.store: postgres`);
  }
}

/** The configured store; undefined when `store: off`. Throws AuditStoreError with one line. */
export async function openAuditStore(c: AuditConfig, opts: { readOnly?: boolean } = {}): Promise<AuditStore | undefined> {
  if (c.store === 'off') return undefined;
  if (c.store === 'postgres') {
    const pgc = c.postgres!;
    return new PostgresAuditStore({ url: pgc.url, password: postgresPassword(pgc, (m) => new AuditStoreError('postgres', m)) });
  }
  const file = path.join(c.dataDir, SQLITE_FILE);
  const Sqlite = await loadSqlite(file);
  try {
    if (opts.readOnly) return new Sqlite(file, opts);
    // The writer's store: opened here first so a file that cannot be a database stops the start
    // with one line, then written from its own thread.
    await new Sqlite(file).close();
    return new ThreadedSqliteStore(file);
  } catch (e) {
    throw new AuditStoreError(file, (e as Error).message);
  }
}

export interface AuditTrail {
  readonly writer: AuditWriter;
  health(): AuditHealth;
  stop(): Promise<void>;
}

/**
 * The trail's part of /readyz: ready while records reach the store or the spool; spooling is
 * ready with its cause (nothing is lost, the database is down); not ready once records are lost.
 */
export function auditReadiness(trail: AuditTrail): { ok: boolean; cause?: string } {
  const h = trail.health();
  const store = trail.writer.store.describe;
  if (!h.writable) return { ok: false, cause: `audit records are being lost: neither ${store} nor the local spool can be written (${h.lost} lost; ${h.lastError ?? 'spool write failed'})` };
  if (h.spooling) return { ok: true, cause: `audit store ${store} unavailable (${h.lastError ?? 'replaying'}): ${h.spooled} record(s) spooled locally, replayed in order when it answers` };
  return { ok: true };
}

/** The spool of worker process `slot` (`workers` > 1): a replacement worker takes over its slot's file. */
export function workerSpoolName(slot: number): string {
  return SPOOL_FILE.replace(/\.jsonl$/, `.w${slot}.jsonl`);
}

/**
 * Spools of worker slots that no longer exist (`workers` was lowered) go into the primary's spool,
 * so their records are replayed, not left behind. Called by the primary before it forks.
 */
export function adoptWorkerSpools(c: AuditConfig, workers: number): number {
  if (c.store === 'off') return 0;
  let files: string[];
  try {
    files = readdirSync(c.dataDir);
  } catch {
    return 0;
  }
  let adopted = 0;
  for (const f of files) {
    const m = /^audit-spool\.w(\d+)\.jsonl(\.replaying)?$/.exec(f);
    if (!m || Number(m[1]) < workers) continue;
    const from = path.join(c.dataDir, f);
    const text = readFileSync(from, 'utf8');
    appendFileSync(path.join(c.dataDir, SPOOL_FILE), text.endsWith('\n') || text === '' ? text : `${text}\n`);
    rmSync(from);
    adopted++;
  }
  return adopted;
}

export async function startAuditTrail(c: AuditConfig, log: Logger, spoolName = SPOOL_FILE): Promise<AuditTrail | undefined> {
  const store = await openAuditStore(c);
  if (!store) {
    log.warn('audit trail is off (audit.store: off): denials, logins and revocations are only logged');
    return undefined;
  }
  const spoolFile = path.join(c.dataDir, spoolName);
  let spool: AuditSpool;
  try {
    spool = new AuditSpool(spoolFile);
  } catch (e) {
    await store.close().catch(() => {});
    throw new AuditStoreError(`spool ${spoolFile}`, (e as Error).message);
  }
  const writer: AuditWriter = new AuditWriter(store, spool, {
    commitIntervalMs: c.commitInterval,
    maxQueue: c.maxQueue,
    retentionDays: c.retentionDays,
    log,
    onBatch: (written, error) =>
      emit(events.auditStoreState, () => {
        const h = writer.health();
        return { at: Date.now(), queueDepth: h.queued, spoolRecords: h.spooled, spoolBytes: spool.bytes, written, error };
      }),
  });
  await writer.start();
  log.info({ store: store.describe, auditLevel: c.level, commitIntervalMs: c.commitInterval, spooling: writer.health().spooling }, 'audit trail started');
  return {
    writer,
    health: () => writer.health(),
    stop: () => writer.close(),
  };
}
