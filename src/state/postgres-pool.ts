// The connection pool and the error text of the stores kept in PostgreSQL (state, devices, second
// factor): the same time-outs and the same one-line errors for all of them.
import pg from 'pg';

export interface PoolOptions {
  readonly url: string;
  readonly password?: string | undefined;
  /** Connect and query time-out (default 2 s): a store that does not answer fails fast. */
  readonly timeoutMs?: number | undefined;
}

export function storePool(o: PoolOptions, max: number): pg.Pool {
  const timeout = o.timeoutMs ?? 2000;
  const pool = new pg.Pool({
    connectionString: o.url,
    ...(o.password !== undefined ? { password: o.password } : {}),
    max,
    connectionTimeoutMillis: timeout,
    idleTimeoutMillis: 30_000,
    query_timeout: timeout,
  });
  // A server restart kills idle clients; the pool replaces them. Without a listener it would throw.
  pool.on('error', () => {});
  return pool;
}

/** A driver or server error as one line, with its code (ECONNREFUSED, 57P01…) when the text lacks it. */
export function pgErrorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code && !err.message.includes(err.code) ? `${err.message} (${err.code})` : err.message || String(e);
}
