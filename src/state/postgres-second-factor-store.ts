// The second factor's state in PostgreSQL, for several gateway instances: its own tables beside the
// state store's (portcullis_second_factor_*), its own numbered migrations under its own advisory
// lock. Every operation the interface calls atomic is one statement (an upsert with a WHERE, a
// DELETE … RETURNING, or data-modifying CTEs that commit together), so two instances racing on a
// time step, a challenge or a pending secret get one winner without holding locks across round trips.
import pg from 'pg';
import { migratePostgres } from './postgres-migrate.js';
import { pgErrorText, storePool } from './postgres-pool.js';
import { describePostgres } from '../audit/postgres-store.js';
import type { ChallengePurpose, Sealed, SecondFactorStore, StoredPasskey } from './second-factor-store.js';
import { SecondFactorStoreError } from './second-factor-store.js';

/** Only one instance migrates at a time ("PC2F"). */
const MIGRATION_LOCK = 0x5043_3246;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE portcullis_second_factor_pending (user_key TEXT PRIMARY KEY, key_id TEXT NOT NULL, data TEXT NOT NULL, expires BIGINT NOT NULL);
   CREATE TABLE portcullis_second_factor_totp (user_key TEXT PRIMARY KEY, key_id TEXT NOT NULL, data TEXT NOT NULL, created BIGINT NOT NULL);
   CREATE TABLE portcullis_second_factor_steps (user_key TEXT PRIMARY KEY, step BIGINT NOT NULL);
   CREATE TABLE portcullis_second_factor_passkeys (id TEXT PRIMARY KEY, user_key TEXT NOT NULL, public_key TEXT NOT NULL, counter BIGINT NOT NULL,
     transports TEXT NOT NULL, name TEXT NOT NULL, created BIGINT NOT NULL, last_used BIGINT);
   CREATE INDEX portcullis_second_factor_passkeys_by_user ON portcullis_second_factor_passkeys (user_key, created);
   CREATE TABLE portcullis_second_factor_challenges (challenge TEXT PRIMARY KEY, user_key TEXT NOT NULL, purpose TEXT NOT NULL, expires BIGINT NOT NULL);
   CREATE INDEX portcullis_second_factor_challenges_by_expiry ON portcullis_second_factor_challenges (expires);`,
];

export interface PostgresSecondFactorOptions {
  readonly url: string;
  readonly password?: string | undefined;
  /** A connection attempt or statement slower than this fails (a sign-in must not hang on it). */
  readonly timeoutMs?: number;
}

type Row = Record<string, unknown>;

export class PostgresSecondFactorStore implements SecondFactorStore {
  readonly describe: string;
  readonly #pool: pg.Pool;

  constructor(opts: PostgresSecondFactorOptions) {
    this.describe = describePostgres(opts.url);
    this.#pool = storePool(opts, 4);
  }

  async open(): Promise<void> {
    await migratePostgres(this.#pool, { lock: MIGRATION_LOCK, table: 'portcullis_second_factor_schema', migrations: MIGRATIONS }, (e) => this.#fail(e));
  }

  async putPendingTotp(userKey: string, secret: Sealed, expires: number): Promise<void> {
    await this.#q(
      `INSERT INTO portcullis_second_factor_pending (user_key, key_id, data, expires) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_key) DO UPDATE SET key_id = EXCLUDED.key_id, data = EXCLUDED.data, expires = EXCLUDED.expires`,
      [userKey.toLowerCase(), secret.keyId, secret.data, expires],
    );
  }

  async pendingTotp(userKey: string, now: number): Promise<Sealed | undefined> {
    const r = (await this.#q('SELECT key_id, data FROM portcullis_second_factor_pending WHERE user_key = $1 AND expires > $2', [userKey.toLowerCase(), now]))[0];
    return r ? { keyId: String(r.key_id), data: String(r.data) } : undefined;
  }

  async activateTotp(userKey: string, secret: Sealed, step: number, now: number): Promise<boolean> {
    // The pending row's DELETE decides; the two inserts read only what it returned.
    const r = await this.#q(
      `WITH p AS (DELETE FROM portcullis_second_factor_pending WHERE user_key = $1 AND key_id = $2 AND data = $3 AND expires > $4 RETURNING user_key, key_id, data),
       a AS (INSERT INTO portcullis_second_factor_totp (user_key, key_id, data, created) SELECT user_key, key_id, data, $4 FROM p
             ON CONFLICT (user_key) DO UPDATE SET key_id = EXCLUDED.key_id, data = EXCLUDED.data, created = EXCLUDED.created RETURNING 1),
       s AS (INSERT INTO portcullis_second_factor_steps (user_key, step) SELECT user_key, $5 FROM p
             ON CONFLICT (user_key) DO UPDATE SET step = GREATEST(portcullis_second_factor_steps.step, EXCLUDED.step) RETURNING 1)
       SELECT (SELECT count(*) FROM p) AS n, (SELECT count(*) FROM a) AS a, (SELECT count(*) FROM s) AS s`,
      [userKey.toLowerCase(), secret.keyId, secret.data, now, step],
    );
    return Number(r[0]?.n) === 1;
  }

  async activeTotp(userKey: string): Promise<Sealed | undefined> {
    const r = (await this.#q('SELECT key_id, data FROM portcullis_second_factor_totp WHERE user_key = $1', [userKey.toLowerCase()]))[0];
    return r ? { keyId: String(r.key_id), data: String(r.data) } : undefined;
  }

  async acceptTotpStep(userKey: string, step: number): Promise<boolean> {
    // One statement: concurrent upserts of one key serialise on its row (or its unique index).
    const r = await this.#q(
      `INSERT INTO portcullis_second_factor_steps (user_key, step) VALUES ($1, $2)
       ON CONFLICT (user_key) DO UPDATE SET step = EXCLUDED.step WHERE portcullis_second_factor_steps.step < EXCLUDED.step RETURNING 1 AS ok`,
      [userKey.toLowerCase(), step],
    );
    return r.length === 1;
  }

  async addPasskey(userKey: string, p: StoredPasskey): Promise<boolean> {
    const r = await this.#q(
      `INSERT INTO portcullis_second_factor_passkeys (id, user_key, public_key, counter, transports, name, created, last_used)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING 1 AS ok`,
      [p.id, userKey.toLowerCase(), p.publicKey, p.counter, JSON.stringify(p.transports), p.name, p.createdAt, p.lastUsedAt ?? null],
    );
    return r.length === 1;
  }

  async passkeys(userKey: string): Promise<StoredPasskey[]> {
    return (await this.#q('SELECT * FROM portcullis_second_factor_passkeys WHERE user_key = $1 ORDER BY created, id', [userKey.toLowerCase()])).map(passkeyOf);
  }

  async passkey(userKey: string, id: string): Promise<StoredPasskey | undefined> {
    const r = (await this.#q('SELECT * FROM portcullis_second_factor_passkeys WHERE user_key = $1 AND id = $2', [userKey.toLowerCase(), id]))[0];
    return r ? passkeyOf(r) : undefined;
  }

  async usePasskey(userKey: string, id: string, counter: number, now: number): Promise<boolean> {
    const r = await this.#q(
      `UPDATE portcullis_second_factor_passkeys SET counter = $3, last_used = $4
       WHERE user_key = $1 AND id = $2 AND (counter < $3 OR (counter = 0 AND $3 = 0)) RETURNING 1 AS ok`,
      [userKey.toLowerCase(), id, counter, now],
    );
    return r.length === 1;
  }

  async putChallenge(userKey: string, purpose: ChallengePurpose, challenge: string, now: number, expires: number): Promise<void> {
    await this.#q(
      `WITH old AS (DELETE FROM portcullis_second_factor_challenges WHERE expires <= $4)
       INSERT INTO portcullis_second_factor_challenges (challenge, user_key, purpose, expires) VALUES ($1, $2, $3, $5)`,
      [challenge, userKey.toLowerCase(), purpose, now, expires],
    );
  }

  async takeChallenge(userKey: string, purpose: ChallengePurpose, challenge: string, now: number): Promise<boolean> {
    const r = await this.#q('DELETE FROM portcullis_second_factor_challenges WHERE challenge = $1 AND user_key = $2 AND purpose = $3 RETURNING expires', [challenge, userKey.toLowerCase(), purpose]);
    return r.length === 1 && Number(r[0]!.expires) > now;
  }

  async reset(userKey: string): Promise<{ readonly totp: boolean; readonly passkeys: number }> {
    const r = await this.#q(
      `WITH t AS (DELETE FROM portcullis_second_factor_totp WHERE user_key = $1 RETURNING 1),
       p AS (DELETE FROM portcullis_second_factor_pending WHERE user_key = $1 RETURNING 1),
       s AS (DELETE FROM portcullis_second_factor_steps WHERE user_key = $1 RETURNING 1),
       k AS (DELETE FROM portcullis_second_factor_passkeys WHERE user_key = $1 RETURNING 1),
       c AS (DELETE FROM portcullis_second_factor_challenges WHERE user_key = $1 RETURNING 1)
       SELECT (SELECT count(*) FROM t) AS totp, (SELECT count(*) FROM k) AS passkeys,
              (SELECT count(*) FROM p) + (SELECT count(*) FROM s) + (SELECT count(*) FROM c) AS other`,
      [userKey.toLowerCase()],
    );
    return { totp: Number(r[0]?.totp) > 0, passkeys: Number(r[0]?.passkeys) };
  }

  async close(): Promise<void> {
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
    throw new SecondFactorStoreError(this.describe, pgErrorText(e));
  }
}

function passkeyOf(r: Row): StoredPasskey {
  return {
    id: String(r.id),
    publicKey: String(r.public_key),
    counter: Number(r.counter),
    transports: JSON.parse(String(r.transports)) as string[],
    name: String(r.name),
    createdAt: Number(r.created),
    lastUsedAt: r.last_used === null || r.last_used === undefined ? undefined : Number(r.last_used),
  };
}
