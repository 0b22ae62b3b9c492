// Numbered migrations for the stores that keep their tables in PostgreSQL (state, devices, second
// factor): each store has its own version table and advisory lock, so several instances starting
// together migrate once, and one store's schema never holds another's back.
import type pg from 'pg';

export interface PostgresMigrations {
  /** The advisory lock key (per store). */
  readonly lock: number;
  /** The version table, e.g. portcullis_state_schema. */
  readonly table: string;
  readonly migrations: readonly string[];
}

/**
 * Applies the migrations newer than the recorded version, one transaction each, under a session
 * advisory lock. `fail` turns an error into the store's own (it must throw). A client whose
 * session failed is discarded, never handed back with a lock or a transaction open.
 */
export async function migratePostgres(pool: pg.Pool, m: PostgresMigrations, fail: (e: unknown) => never): Promise<void> {
  const c = await pool.connect().catch(fail);
  const ignore = () => {};
  c.on('error', ignore);
  let broken = false;
  try {
    await c.query('SELECT pg_advisory_lock($1)', [m.lock]);
    await c.query(`CREATE TABLE IF NOT EXISTS ${m.table} (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const at = Number(((await c.query(`SELECT max(version) AS v FROM ${m.table}`)).rows[0] as { v?: unknown } | undefined)?.v ?? 0);
    if (at > m.migrations.length) throw new Error(`${m.table} version ${at} is newer than this gateway knows (${m.migrations.length}); upgrade the gateway`);
    for (let v = at + 1; v <= m.migrations.length; v++) {
      await c.query('BEGIN');
      await c.query(m.migrations[v - 1]!);
      await c.query(`INSERT INTO ${m.table} (version) VALUES ($1)`, [v]);
      await c.query('COMMIT');
    }
    await c.query('SELECT pg_advisory_unlock($1)', [m.lock]);
  } catch (e) {
    broken = true;
    fail(e);
  } finally {
    c.off('error', ignore);
    c.release(broken);
  }
}
