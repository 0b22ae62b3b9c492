// Sessions in SQLite: their own tables in the state store's file (state.sqlite in state.dataDir,
// opened and migrated as every store's, sqlite-database.ts: 0600, WAL), on their own connection,
// with their own numbered migrations (signin_schema), so no other store's schema constrains them.
// Every worker process of the host opens the same file: a browser's next connection may reach any.
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { migrateSqlite, openStateDatabase } from '../state/sqlite-database.js';
import { type SessionStore, SessionStoreError, type SigninSession, sessionOfRow } from './session-store.js';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE signin_sessions (id TEXT PRIMARY KEY, user_lower TEXT NOT NULL, user_key TEXT NOT NULL, claimed TEXT NOT NULL,
     stage TEXT NOT NULL, second_factor INTEGER NOT NULL, exchange TEXT NOT NULL, destination TEXT NOT NULL, csrf TEXT NOT NULL,
     created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, failures INTEGER NOT NULL);
   CREATE INDEX signin_sessions_by_user ON signin_sessions (user_lower);
   CREATE INDEX signin_sessions_by_seen ON signin_sessions (last_seen_at);`,
];

type Row = Record<string, SQLInputValue>;


export class SqliteSessionStore implements SessionStore {
  readonly describe: string;
  readonly #file: string;
  #db: DatabaseSync | undefined;

  constructor(file: string) {
    this.#file = file;
    this.describe = file;
  }

  async open(): Promise<void> {
    try {
      const db = openStateDatabase(this.#file);
      migrateSqlite(db, 'signin_schema', MIGRATIONS);
      this.#db = db;
    } catch (e) {
      throw new SessionStoreError(this.describe, (e as Error).message);
    }
  }

  #open(): DatabaseSync {
    if (!this.#db) throw new SessionStoreError(this.describe, 'not open');
    return this.#db;
  }

  async put(s: SigninSession): Promise<void> {
    this.#open()
      .prepare(
        `INSERT OR REPLACE INTO signin_sessions (id, user_lower, user_key, claimed, stage, second_factor, exchange, destination, csrf, created_at, last_seen_at, failures)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(s.id, s.userKey.toLowerCase(), s.userKey, s.claimed, s.stage, s.secondFactor ? 1 : 0, s.exchange, s.destination, s.csrf, s.createdAt, s.lastSeenAt, s.failures);
  }

  async get(id: string): Promise<SigninSession | undefined> {
    const r = this.#open().prepare('SELECT * FROM signin_sessions WHERE id = ?').get(id) as Row | undefined;
    return r ? sessionOfRow(r) : undefined;
  }

  async delete(id: string): Promise<boolean> {
    return Number(this.#open().prepare('DELETE FROM signin_sessions WHERE id = ?').run(id).changes) > 0;
  }

  async touch(id: string, at: number, exchange?: string): Promise<void> {
    const db = this.#open();
    if (exchange === undefined) db.prepare('UPDATE signin_sessions SET last_seen_at = max(last_seen_at, ?) WHERE id = ?').run(at, id);
    else db.prepare('UPDATE signin_sessions SET last_seen_at = max(last_seen_at, ?), exchange = ? WHERE id = ?').run(at, exchange, id);
  }

  async addFailure(id: string): Promise<number> {
    const r = this.#open().prepare('UPDATE signin_sessions SET failures = failures + 1 WHERE id = ? RETURNING failures').get(id) as Row | undefined;
    return r ? Number(r.failures) : 0;
  }

  async deleteUser(userKey: string): Promise<SigninSession[]> {
    return (this.#open().prepare('DELETE FROM signin_sessions WHERE user_lower = ? RETURNING *').all(userKey.toLowerCase()) as Row[]).map(sessionOfRow);
  }

  async prune(idleBefore: number, createdBefore: number): Promise<number> {
    return Number(this.#open().prepare('DELETE FROM signin_sessions WHERE last_seen_at < ? OR created_at < ?').run(idleBefore, createdBefore).changes);
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
  }
}
