// Device approvals shared by several gateway instances: PostgreSQL. Every change runs in one
// transaction with its pg_notify (delivered only on commit); each instance LISTENs on one
// dedicated connection, re-reads the row a notice names, and reads everything again after the
// connection came back (resync). admitNew takes a transaction-scoped advisory lock on the user, so
// two instances cannot both auto-approve the user's last free device.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { migratePostgres } from './postgres-migrate.js';
import { pgErrorText, storePool } from './postgres-pool.js';
import { PostgresListener } from './postgres-listener.js';
import { describePostgres } from '../audit/postgres-store.js';
import { type AdmitRule, type DeviceChange, type DeviceRecord, type DeviceState, type DeviceStore, DeviceStoreError } from './device-store.js';
import { recordOf } from './sqlite-device-store.js';

/** The channel every instance LISTENs on for device changes. */
export const DEVICE_CHANNEL = 'portcullis_devices';
/** Only one instance migrates at a time ("PCDV"). */
const MIGRATION_LOCK = 0x5043_4456;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE portcullis_devices (user_lower TEXT NOT NULL, id_lower TEXT NOT NULL, user_name TEXT NOT NULL, device_id TEXT NOT NULL, device_type TEXT,
     state TEXT NOT NULL, first_seen BIGINT NOT NULL, changed_at BIGINT NOT NULL, actor TEXT NOT NULL, PRIMARY KEY (user_lower, id_lower))`,
];

const COLUMNS = 'user_name, device_id, device_type, state, first_seen, changed_at, actor';

export interface PostgresDeviceOptions {
  readonly url: string;
  readonly password?: string | undefined;
  /** A connection attempt or statement slower than this fails. */
  readonly timeoutMs?: number;
  /** First wait before the LISTEN connection is tried again after a loss (doubles up to 5 s). */
  readonly reconnectMs?: number;
}

interface Notice {
  readonly o: string;
  readonly k: 'put' | 'remove';
  readonly user: string;
  readonly id: string;
}

type Row = Record<string, unknown>;

export class PostgresDeviceStore implements DeviceStore {
  readonly describe: string;
  readonly shared = true;
  /** This store's own notices are not news to it. */
  readonly #origin = randomUUID();
  readonly #opts: PostgresDeviceOptions;
  readonly #pool: pg.Pool;
  readonly #listeners: Array<(c: DeviceChange) => void> = [];
  readonly #listener: PostgresListener;

  constructor(opts: PostgresDeviceOptions) {
    this.#opts = opts;
    this.describe = describePostgres(opts.url);
    this.#pool = storePool(opts, 2);
    this.#listener = new PostgresListener({
      url: opts.url,
      password: opts.password,
      timeoutMs: opts.timeoutMs,
      reconnectMs: opts.reconnectMs,
      channel: DEVICE_CHANNEL,
      heard: (payload) => void this.#heard(payload),
      resync: async () => {
        // Whatever changed while this instance was not listening: read it all again.
        const records = await this.list().catch(() => undefined);
        if (records) this.#emit({ kind: 'resync', records });
        return records !== undefined;
      },
    });
  }

  async open(): Promise<DeviceRecord[]> {
    await migratePostgres(this.#pool, { lock: MIGRATION_LOCK, table: 'portcullis_device_schema', migrations: MIGRATIONS }, (e) => this.#fail(e));
    await this.#listener.start().catch((e: unknown) => this.#fail(e));
    return this.list();
  }

  async list(): Promise<DeviceRecord[]> {
    try {
      return ((await this.#pool.query(`SELECT ${COLUMNS} FROM portcullis_devices ORDER BY first_seen, user_lower, id_lower`)).rows as Row[]).map(recordOf);
    } catch (e) {
      return this.#fail(e);
    }
  }

  async put(r: DeviceRecord): Promise<DeviceRecord> {
    return this.#tx(async (c) => {
      const row = (
        await c.query(
          `INSERT INTO portcullis_devices (user_lower, id_lower, ${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (user_lower, id_lower) DO UPDATE SET device_type = coalesce(excluded.device_type, portcullis_devices.device_type), state = excluded.state, changed_at = excluded.changed_at, actor = excluded.actor
           RETURNING ${COLUMNS}`,
          [r.user.toLowerCase(), r.id.toLowerCase(), r.user, r.id, r.type ?? null, r.state, r.firstSeen, r.changedAt, r.actor],
        )
      ).rows[0] as Row;
      await this.#notify(c, 'put', r.user, r.id);
      return recordOf(row);
    });
  }

  async remove(user: string, id: string): Promise<DeviceRecord | undefined> {
    return this.#tx(async (c) => {
      const row = (await c.query(`DELETE FROM portcullis_devices WHERE user_lower = $1 AND id_lower = $2 RETURNING ${COLUMNS}`, [user.toLowerCase(), id.toLowerCase()])).rows[0] as Row | undefined;
      if (row) await this.#notify(c, 'remove', user, id);
      return row ? recordOf(row) : undefined;
    });
  }

  async admitNew(user: string, id: string, type: string, now: number, rule: AdmitRule): Promise<DeviceRecord | undefined> {
    const u = user.toLowerCase();
    return this.#tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`portcullis-devices:${u}`]);
      const old = (await c.query(`SELECT ${COLUMNS} FROM portcullis_devices WHERE user_lower = $1 AND id_lower = $2`, [u, id.toLowerCase()])).rows[0] as Row | undefined;
      if (old) return recordOf(old);
      const counts = new Map<string, number>();
      for (const r of (await c.query('SELECT state, count(*) AS n FROM portcullis_devices WHERE user_lower = $1 GROUP BY state', [u])).rows as Row[]) counts.set(String(r.state), Number(r.n));
      const state: DeviceState | undefined = (counts.get('approved') ?? 0) < rule.autoApprove ? 'approved' : (counts.get('quarantined') ?? 0) < rule.maxPending ? 'quarantined' : undefined;
      if (!state) return undefined;
      const row = (
        await c.query(`INSERT INTO portcullis_devices (user_lower, id_lower, ${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`, [
          u, id.toLowerCase(), user, id, type, state, now, now, state === 'approved' ? 'auto-approve' : 'quarantine',
        ])
      ).rows[0] as Row;
      await this.#notify(c, 'put', user, id);
      return recordOf(row);
    });
  }

  watch(listener: (c: DeviceChange) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    await this.#listener.close();
    await this.#pool.end().catch(() => {});
  }

  async #notify(c: pg.PoolClient, k: Notice['k'], user: string, id: string): Promise<void> {
    const n: Notice = { o: this.#origin, k, user, id };
    await c.query('SELECT pg_notify($1, $2)', [DEVICE_CHANNEL, JSON.stringify(n)]);
  }

  async #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect().catch((e: unknown) => this.#fail(e));
    const ignore = () => {};
    c.on('error', ignore);
    let broken = false;
    try {
      await c.query('BEGIN');
      const v = await fn(c);
      await c.query('COMMIT');
      return v;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => (broken = true));
      return this.#fail(e);
    } finally {
      c.off('error', ignore);
      c.release(broken);
    }
  }

  #fail(e: unknown): never {
    throw new DeviceStoreError(this.describe, pgErrorText(e));
  }

  async #heard(payload: string | undefined): Promise<void> {
    let n: Notice;
    try {
      n = JSON.parse(payload ?? '') as Notice;
    } catch {
      return;
    }
    if (n.o === this.#origin || typeof n.user !== 'string' || typeof n.id !== 'string') return;
    if (n.k === 'remove') return this.#emit({ kind: 'remove', user: n.user, id: n.id });
    const row = (await this.#pool.query(`SELECT ${COLUMNS} FROM portcullis_devices WHERE user_lower = $1 AND id_lower = $2`, [n.user.toLowerCase(), n.id.toLowerCase()]).catch(() => undefined))?.rows[0] as Row | undefined;
    // Gone again by the time it was read: a later notice says so.
    if (row) this.#emit({ kind: 'put', record: recordOf(row) });
  }

  #emit(c: DeviceChange): void {
    for (const l of this.#listeners) l(c);
  }
}
