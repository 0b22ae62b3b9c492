// The one SQLite file (`state.sqlite` in state.dataDir) that the state, device and second-factor
// stores share, each with its own tables and its own numbered migrations, each on its own
// connection. Opening, migrating and the write transaction are the same for all of them.
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/**
 * Opens (creating it and its folder if needed) the state file in WAL mode. A file this creates is
 * 0600: it says who is revoked, locked out, enrolled and which phones they use. An existing file
 * keeps the mode its owner gave it (a CLI may run as another user than the gateway).
 */
export function openStateDatabase(file: string): DatabaseSync {
  mkdirSync(path.dirname(file), { recursive: true });
  const created = !existsSync(file);
  const db = new DatabaseSync(file);
  if (created) chmodSync(file, 0o600);
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  return db;
}

/** `fn` in one write transaction taken at its start (BEGIN IMMEDIATE): atomic across processes. */
export function immediate<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const v = fn();
    db.exec('COMMIT');
    return v;
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
}

/**
 * Applies the migrations newer than the version recorded in `table`, all in one write
 * transaction, so two processes opening a fresh file migrate once. A file migrated by a newer
 * gateway is refused rather than misread.
 */
export function migrateSqlite(db: DatabaseSync, table: string, migrations: readonly string[]): void {
  immediate(db, () => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`);
    const at = Number((db.prepare(`SELECT max(version) AS v FROM ${table}`).get() as { v?: unknown } | undefined)?.v ?? 0);
    if (at > migrations.length) throw new Error(`${table} version ${at} is newer than this gateway knows (${migrations.length}); upgrade the gateway`);
    for (let v = at + 1; v <= migrations.length; v++) {
      db.exec(migrations[v - 1]!);
      db.prepare(`INSERT INTO ${table} (version, applied_at) VALUES (?, ?)`).run(v, Date.now());
    }
  });
}
