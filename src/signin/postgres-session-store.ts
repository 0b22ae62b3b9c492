// Sessions in PostgreSQL: one table shared by every gateway instance (a browser's next connection
// may reach another instance behind the load balancer), with its own numbered migrations
// (portcullis_signin_schema, postgres-migrate.ts: under its own advisory lock, so instances
// starting together migrate once) and the stores' pool (postgres-pool.ts). Every operation is one
// statement.
import type pg from 'pg';
import { describePostgres } from '../audit/postgres-store.js';
import { migratePostgres } from '../state/postgres-migrate.js';
import { type PoolOptions, pgErrorText, storePool } from '../state/postgres-pool.js';
import { type SessionStore, SessionStoreError, type SigninSession, sessionOfRow } from './session-store.js';

/** Only one instance migrates at a time (sign-in's own advisory lock: "PCSI"). */
const MIGRATION_LOCK = 0x5043_5349;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE portcullis_signin_sessions (id TEXT PRIMARY KEY, user_lower TEXT NOT NULL, user_key TEXT NOT NULL, claimed TEXT NOT NULL,
     stage TEXT NOT NULL, second_factor BOOLEAN NOT NULL, exchange TEXT NOT NULL, destination TEXT NOT NULL, csrf TEXT NOT NULL,
     created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, failures INTEGER NOT NULL);
   CREATE INDEX portcullis_signin_sessions_by_user ON portcullis_signin_sessions (user_lower);
   CREATE INDEX portcullis_signin_sessions_by_seen ON portcullis_signin_sessions (last_seen_at);`,
];

type Row = Record<string, unknown>;


export class PostgresSessionStore implements SessionStore {
  readonly describe: string;
  readonly #pool: pg.Pool;

  constructor(opts: PoolOptions) {
    this.describe = describePostgres(opts.url);
    this.#pool = storePool(opts, 4);
  }

  async open(): Promise<void> {
    await migratePostgres(this.#pool, { lock: MIGRATION_LOCK, table: 'portcullis_signin_schema', migrations: MIGRATIONS }, (e) => {
      throw new SessionStoreError(this.describe, pgErrorText(e));
    });
  }

  async #q(sql: string, args: unknown[]): Promise<pg.QueryResult<Row>> {
    try {
      return await this.#pool.query<Row>(sql, args);
    } catch (e) {
      throw new SessionStoreError(this.describe, pgErrorText(e));
    }
  }

  async put(s: SigninSession): Promise<void> {
    await this.#q(
      `INSERT INTO portcullis_signin_sessions (id, user_lower, user_key, claimed, stage, second_factor, exchange, destination, csrf, created_at, last_seen_at, failures)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (id) DO UPDATE SET user_lower = EXCLUDED.user_lower, user_key = EXCLUDED.user_key, claimed = EXCLUDED.claimed, stage = EXCLUDED.stage,
         second_factor = EXCLUDED.second_factor, exchange = EXCLUDED.exchange, destination = EXCLUDED.destination, csrf = EXCLUDED.csrf,
         created_at = EXCLUDED.created_at, last_seen_at = EXCLUDED.last_seen_at, failures = EXCLUDED.failures`,
      [s.id, s.userKey.toLowerCase(), s.userKey, s.claimed, s.stage, s.secondFactor, s.exchange, s.destination, s.csrf, s.createdAt, s.lastSeenAt, s.failures],
    );
  }

  async get(id: string): Promise<SigninSession | undefined> {
    const r = (await this.#q('SELECT * FROM portcullis_signin_sessions WHERE id = $1', [id])).rows[0];
    return r ? sessionOfRow(r) : undefined;
  }

  async delete(id: string): Promise<boolean> {
    return ((await this.#q('DELETE FROM portcullis_signin_sessions WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async touch(id: string, at: number, exchange?: string): Promise<void> {
    if (exchange === undefined) await this.#q('UPDATE portcullis_signin_sessions SET last_seen_at = greatest(last_seen_at, $1) WHERE id = $2', [at, id]);
    else await this.#q('UPDATE portcullis_signin_sessions SET last_seen_at = greatest(last_seen_at, $1), exchange = $2 WHERE id = $3', [at, exchange, id]);
  }

  async addFailure(id: string): Promise<number> {
    const r = (await this.#q('UPDATE portcullis_signin_sessions SET failures = failures + 1 WHERE id = $1 RETURNING failures', [id])).rows[0];
    return r ? Number(r.failures) : 0;
  }

  async deleteUser(userKey: string): Promise<SigninSession[]> {
    return (await this.#q('DELETE FROM portcullis_signin_sessions WHERE user_lower = $1 RETURNING *', [userKey.toLowerCase()])).rows.map(sessionOfRow);
  }

  async prune(idleBefore: number, createdBefore: number): Promise<number> {
    return (await this.#q('DELETE FROM portcullis_signin_sessions WHERE last_seen_at < $1 OR created_at < $2', [idleBefore, createdBefore])).rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => {});
  }
}
