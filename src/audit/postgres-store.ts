// The shared audit store: PostgreSQL, for several gateway instances writing one trail.
import pg from 'pg';
import type { AuditRecord, StoredRecord } from './audit-record.js';
import type { AuditStore, QueryOptions } from './audit-store.js';
import { MIGRATIONS_TABLE, pendingMigrations } from './migrations.js';
import { type AuditFilter, COLUMNS, COLUMN_LIST, recordValues, rowToRecord, whereClause } from './record-columns.js';

/** Records per INSERT: 26 columns × 500 stays far below PostgreSQL's 65,535 parameters. */
const ROWS_PER_INSERT = 500;

/** Only one instance migrates at a time (any constant: the audit store's own advisory lock). */
const MIGRATION_LOCK = 0x5043_4155; // "PCAU"

export interface PostgresOptions {
  readonly url: string;
  readonly password?: string | undefined;
  /** How long a connection attempt may take before the store counts as unavailable. */
  readonly connectTimeoutMs?: number;
}

/** host:port/db of a URL, never its credentials. */
export function describePostgres(url: string): string {
  try {
    const u = new URL(url);
    return `postgres://${u.host}${u.pathname}`;
  } catch {
    return 'postgres (unparsable URL)';
  }
}

export class PostgresAuditStore implements AuditStore {
  readonly describe: string;
  readonly #pool: pg.Pool;

  constructor(opts: PostgresOptions) {
    this.describe = describePostgres(opts.url);
    this.#pool = new pg.Pool({
      connectionString: opts.url,
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      max: 2,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 3000,
      idleTimeoutMillis: 30_000,
      // A statement that hangs (a server that stopped answering) fails the batch, which then spools.
      query_timeout: 10_000,
    });
    // A server restart kills idle clients; the pool replaces them. Without a listener it would throw.
    this.#pool.on('error', () => {});
  }

  async schemaVersion(): Promise<number> {
    const t = await this.#pool.query("SELECT to_regclass('audit_schema') AS t");
    if (!t.rows[0]?.t) return 0;
    const r = await this.#pool.query('SELECT max(version) AS v FROM audit_schema');
    return Number(r.rows[0]?.v ?? 0);
  }

  /**
   * A pooled client for a transaction. While checked out, a client whose server goes away emits
   * 'error' on itself (not on the pool) when no query is running, e.g. between BEGIN and INSERT;
   * without a listener that is an uncaught exception. The statement in progress fails anyway.
   */
  async #client(): Promise<{ c: pg.PoolClient; done(broken: boolean): void }> {
    const c = await this.#pool.connect();
    const ignore = () => {};
    c.on('error', ignore);
    return {
      c,
      done: (broken) => {
        c.off('error', ignore);
        c.release(broken);
      },
    };
  }

  async migrate(target?: number): Promise<number> {
    const { c, done } = await this.#client();
    let broken = false;
    try {
      await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await c.query(MIGRATIONS_TABLE);
      const r = await c.query('SELECT max(version) AS v FROM audit_schema');
      let version = Number(r.rows[0]?.v ?? 0);
      for (const m of pendingMigrations(version, target)) {
        await c.query('BEGIN');
        try {
          for (const s of m.sql.postgres) await c.query(s);
          await c.query('INSERT INTO audit_schema (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
          await c.query('COMMIT');
        } catch (e) {
          broken = true;
          await c.query('ROLLBACK').catch(() => {});
          throw e;
        }
        version = m.version;
      }
      return version;
    } catch (e) {
      broken = true;
      throw e;
    } finally {
      if (!broken) await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
      // A broken client is destroyed, which ends its session and with it the advisory lock.
      done(broken);
    }
  }

  async append(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    const { c, done } = await this.#client();
    let broken = false;
    try {
      await c.query('BEGIN');
      for (let i = 0; i < records.length; i += ROWS_PER_INSERT) {
        const chunk = records.slice(i, i + ROWS_PER_INSERT);
        const n = COLUMNS.length;
        const rows = chunk.map((_, ri) => `(${COLUMNS.map((__, ci) => `$${ri * n + ci + 1}`).join(', ')})`);
        await c.query(`INSERT INTO audit_records (${COLUMN_LIST}) VALUES ${rows.join(', ')} ON CONFLICT (uid) DO NOTHING`, chunk.flatMap(recordValues));
      }
      await c.query('COMMIT');
    } catch (e) {
      broken = true;
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      // A client that failed mid-transaction may be dead (server gone): do not hand it out again.
      done(broken);
    }
  }

  async query(filter: AuditFilter, opts: QueryOptions = {}): Promise<StoredRecord[]> {
    const w = whereClause(filter, (n) => `$${n}`);
    const limit = opts.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(opts.limit))}` : '';
    const r = await this.#pool.query(`SELECT id, ${COLUMN_LIST} FROM audit_records ${w.sql} ORDER BY id ${opts.order === 'desc' ? 'DESC' : 'ASC'}${limit}`, w.params);
    return r.rows.map((row) => rowToRecord(row as Record<string, unknown>));
  }

  async prune(before: number): Promise<number> {
    const r = await this.#pool.query('DELETE FROM audit_records WHERE ts < $1', [before]);
    return r.rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  /** Raw access for migration tests (the previous schema's rows). */
  async exec(sql: string): Promise<void> {
    await this.#pool.query(sql);
  }
}
