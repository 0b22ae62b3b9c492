// The shared state store: PostgreSQL, for several gateway instances. Every change is one call of
// a function defined by the migration, which changes the tables and announces the change with
// pg_notify in the same transaction (delivered only on commit); each instance LISTENs on one
// dedicated connection and re-reads what it needs. A reservation takes a transaction-scoped
// advisory lock on the user's key, so two instances cannot both take the last slot.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { migratePostgres } from './postgres-migrate.js';
import { pgErrorText, storePool } from './postgres-pool.js';
import { PostgresListener } from './postgres-listener.js';
import type { Revocation } from '../policy/user-states.js';
import { describePostgres } from '../audit/postgres-store.js';
import type { Lock, LockoutRule, SlotAnswer, StateChange, StateSnapshot, StateStore } from './state-store.js';
import { StateStoreError } from './state-store.js';
import { POSTGRES_STATE_MIGRATIONS, STATE_CHANNEL, STATE_MIGRATION_LOCK } from './postgres-state-schema.js';

export interface PostgresStateOptions {
  readonly url: string;
  readonly password?: string | undefined;
  /** A connection attempt or statement slower than this fails (a login must not hang on it). */
  readonly timeoutMs?: number;
  /** First wait before the LISTEN connection is tried again after a loss (doubles up to 5 s). */
  readonly reconnectMs?: number;
}

interface Notice {
  readonly o: string;
  readonly k: 'revoke' | 'unrevoke' | 'lock' | 'unlock';
  readonly key: string;
  readonly until?: number;
}

type Row = Record<string, unknown>;

export class PostgresStateStore implements StateStore {
  readonly describe: string;
  readonly shared = true;
  /** This store's own notices are not news to it. */
  readonly #origin = randomUUID();
  readonly #opts: PostgresStateOptions;
  readonly #pool: pg.Pool;
  readonly #listeners: Array<(c: StateChange) => void> = [];
  readonly #listener: PostgresListener;
  #rule: LockoutRule | undefined;

  constructor(opts: PostgresStateOptions) {
    this.#opts = opts;
    this.describe = describePostgres(opts.url);
    this.#pool = storePool(opts, 4);
    this.#listener = new PostgresListener({
      url: opts.url,
      password: opts.password,
      timeoutMs: opts.timeoutMs,
      reconnectMs: opts.reconnectMs,
      channel: STATE_CHANNEL,
      heard: (payload) => void this.#heard(payload),
      resync: async () => {
        // Whatever changed while this instance was not listening: read it all again.
        if (!this.#rule) return true;
        const snapshot = await this.snapshot(Date.now(), this.#rule).catch(() => undefined);
        if (snapshot) this.#emit({ kind: 'resync', snapshot });
        return snapshot !== undefined;
      },
    });
  }

  async open(now: number, rule: LockoutRule): Promise<StateSnapshot> {
    this.#rule = rule;
    await migratePostgres(this.#pool, { lock: STATE_MIGRATION_LOCK, table: 'portcullis_state_schema', migrations: POSTGRES_STATE_MIGRATIONS }, (e) => this.#fail(e));
    await this.#listener.start().catch((e: unknown) => this.#fail(e));
    return this.snapshot(now, rule);
  }

  async snapshot(now: number, rule: LockoutRule): Promise<StateSnapshot> {
    const rows = (await this.#q('SELECT portcullis_state_snapshot($1, $2) AS s', [now, rule.window]))[0]?.s as { revocations: Row[] | null; locks: Row[] | null; failures: Row[] | null };
    return {
      revocations: (rows.revocations ?? []).map(revocationOf),
      locks: (rows.locks ?? []).map((r) => ({ key: String(r.key), until: Number(r.until) })),
      failures: (rows.failures ?? []).map((r) => ({ key: String(r.key), count: Number(r.n) })),
    };
  }

  async putRevocation(r: Revocation): Promise<void> {
    await this.#q('SELECT portcullis_revoke($1, $2, $3, $4, $5, $6)', [r.key, r.key.toLowerCase(), r.reason, r.at, r.until ?? null, this.#origin]);
  }

  async deleteRevocation(key: string, now: number): Promise<boolean> {
    return (await this.#q('SELECT portcullis_unrevoke($1, $2, $3, $4) AS existed', [key, key.toLowerCase(), now, this.#origin]))[0]?.existed === true;
  }

  async revocation(key: string, now: number): Promise<Revocation | undefined> {
    const r = (await this.#q('SELECT key, reason, at, until FROM portcullis_revocations WHERE key_lower = $1 AND (until IS NULL OR until > $2)', [key.toLowerCase(), now]))[0];
    return r ? revocationOf(r) : undefined;
  }

  async unlock(key: string): Promise<void> {
    await this.#q('SELECT portcullis_unlock($1, $2, $3)', [key, key.toLowerCase(), this.#origin]);
  }

  async reserve(key: string, slot: string, now: number, rule: LockoutRule): Promise<SlotAnswer> {
    const r = (await this.#q('SELECT portcullis_reserve($1, $2, $3, $4, $5, $6) AS a', [key.toLowerCase(), slot, now, rule.window, rule.threshold, rule.attemptHold]))[0];
    return r?.a as SlotAnswer;
  }

  async settle(key: string, slot: string, outcome: 'success' | 'failure' | 'none', now: number, rule: LockoutRule): Promise<number | undefined> {
    const r = (await this.#q('SELECT portcullis_settle($1, $2, $3, $4, $5, $6, $7, $8, $9) AS until', [key, key.toLowerCase(), slot, outcome, now, rule.window, rule.threshold, rule.cooldown, this.#origin]))[0];
    return r?.until === null || r?.until === undefined ? undefined : Number(r.until);
  }

  async putLock(lock: Lock): Promise<void> {
    await this.#q('SELECT portcullis_put_lock($1, $2, $3, $4)', [lock.key, lock.key.toLowerCase(), lock.until, this.#origin]);
  }

  watch(listener: (c: StateChange) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    await this.#listener.close();
    await this.#pool.end().catch(() => {});
  }

  async #q(sql: string, params: unknown[]): Promise<Row[]> {
    try {
      return (await this.#pool.query(sql, params)).rows as Row[];
    } catch (e) {
      return this.#fail(e);
    }
  }

  #fail(e: unknown): never {
    throw new StateStoreError(this.describe, pgErrorText(e));
  }

  async #heard(payload: string | undefined): Promise<void> {
    let n: Notice;
    try {
      n = JSON.parse(payload ?? '') as Notice;
    } catch {
      return;
    }
    if (n.o === this.#origin || typeof n.key !== 'string') return;
    if (n.k === 'revoke') {
      // The row, not the notice, carries the reason: a notice is limited to 8,000 bytes.
      const r = await this.revocation(n.key, Date.now()).catch(() => undefined);
      if (r) this.#emit({ kind: 'revoke', revocation: r });
    } else if (n.k === 'lock' && typeof n.until === 'number') this.#emit({ kind: 'lock', key: n.key, until: n.until });
    else if (n.k === 'unrevoke' || n.k === 'unlock') this.#emit({ kind: n.k, key: n.key });
  }

  #emit(c: StateChange): void {
    for (const l of this.#listeners) l(c);
  }
}

function revocationOf(r: Row): Revocation {
  return { key: String(r.key), reason: String(r.reason), at: Number(r.at), until: r.until === null || r.until === undefined ? undefined : Number(r.until) };
}
