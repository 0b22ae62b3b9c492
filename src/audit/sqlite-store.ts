// The embedded audit store: one SQLite file (node:sqlite, built into Node 22.5+) in WAL mode, so
// `portcullis audit` reads while the gateway writes.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { AuditRecord, StoredRecord } from './audit-record.js';
import type { AuditStore, QueryOptions } from './audit-store.js';
import { MIGRATIONS_TABLE, pendingMigrations } from './migrations.js';
import { type AuditFilter, COLUMNS, COLUMN_LIST, recordValues, rowToRecord, whereClause } from './record-columns.js';

export { SQLITE_FILE } from './audit-schema.js';

export class SqliteAuditStore implements AuditStore {
  readonly describe: string;
  readonly #db: DatabaseSync;
  #insert: StatementSync | undefined;

  /** Opens (creating) `file`; `readOnly` for the CLI. */
  constructor(file: string, opts: { readOnly?: boolean } = {}) {
    this.describe = file;
    if (!opts.readOnly) {
      // The trail names users and client addresses: only the gateway's user reads it. SQLite
      // gives the -wal and -shm files the database file's mode.
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, '', { flag: 'a', mode: 0o600 });
    }
    this.#db = new DatabaseSync(file, { readOnly: opts.readOnly ?? false });
    // Another process (the CLI, a second worker) may hold the lock for a moment.
    this.#db.exec('PRAGMA busy_timeout = 5000');
    if (!opts.readOnly) {
      // WAL: readers never block the writer. synchronous=NORMAL: a commit is in the WAL file (the
      // OS has it) when COMMIT returns, so a killed process loses nothing committed; only a power
      // loss can take back commits since the last checkpoint. FULL would fsync on the event loop
      // at every commit.
      this.#db.exec('PRAGMA journal_mode = WAL');
      this.#db.exec('PRAGMA synchronous = NORMAL');
    }
  }

  async schemaVersion(): Promise<number> {
    const t = this.#db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'audit_schema'").get();
    if (!t) return 0;
    const row = this.#db.prepare('SELECT max(version) AS v FROM audit_schema').get() as { v: number | null };
    return row.v ?? 0;
  }

  async migrate(target?: number): Promise<number> {
    this.#db.exec(MIGRATIONS_TABLE);
    let version = await this.schemaVersion();
    for (const m of pendingMigrations(version, target)) {
      this.#transaction(() => {
        for (const s of m.sql.sqlite) this.#db.exec(s);
        this.#db.prepare('INSERT INTO audit_schema (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      });
      version = m.version;
    }
    return version;
  }

  async append(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    // One prepared single-row INSERT run per record inside the transaction: SQLite has no network
    // round trip to save, and a cached statement costs no parsing (multi-row VALUES were slower).
    this.#insert ??= this.#db.prepare(`INSERT INTO audit_records (${COLUMN_LIST}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (uid) DO NOTHING`);
    const insert = this.#insert;
    this.#transaction(() => {
      for (const r of records) insert.run(...recordValues(r));
    });
  }

  async query(filter: AuditFilter, opts: QueryOptions = {}): Promise<StoredRecord[]> {
    const w = whereClause(filter, () => '?');
    const limit = opts.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(opts.limit))}` : '';
    const rows = this.#db.prepare(`SELECT id, ${COLUMN_LIST} FROM audit_records ${w.sql} ORDER BY id ${opts.order === 'desc' ? 'DESC' : 'ASC'}${limit}`).all(...w.params);
    return rows.map((r) => rowToRecord(r as Record<string, unknown>));
  }

  async prune(before: number): Promise<number> {
    const r = this.#db.prepare('DELETE FROM audit_records WHERE ts < ?').run(before);
    return Number(r.changes);
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }

  /** Raw access for migration tests (the previous schema's rows). */
  exec(sql: string): void {
    this.#db.exec(sql);
  }

  #transaction(fn: () => void): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      fn();
      this.#db.exec('COMMIT');
    } catch (e) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw e;
    }
  }
}
