// The second factor's state in SQLite: its own tables in the state store's file (state.sqlite in
// state.dataDir, src/state/sqlite-state-store.ts), on its own connection, with its own numbered
// migrations (second_factor_schema), so neither store's schema version constrains the other. Every
// operation the interface calls atomic is one statement or one BEGIN IMMEDIATE transaction, which
// holds across processes opening the same file (a worker pool's primary and the `second-factor
// reset` CLI).
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { immediate, migrateSqlite, openStateDatabase } from './sqlite-database.js';
import type { ChallengePurpose, Sealed, SecondFactorStore, StoredPasskey } from './second-factor-store.js';
import { SecondFactorStoreError } from './second-factor-store.js';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE second_factor_pending (user_key TEXT PRIMARY KEY, key_id TEXT NOT NULL, data TEXT NOT NULL, expires INTEGER NOT NULL);
   CREATE TABLE second_factor_totp (user_key TEXT PRIMARY KEY, key_id TEXT NOT NULL, data TEXT NOT NULL, created INTEGER NOT NULL);
   CREATE TABLE second_factor_steps (user_key TEXT PRIMARY KEY, step INTEGER NOT NULL);
   CREATE TABLE second_factor_passkeys (id TEXT PRIMARY KEY, user_key TEXT NOT NULL, public_key TEXT NOT NULL, counter INTEGER NOT NULL,
     transports TEXT NOT NULL, name TEXT NOT NULL, created INTEGER NOT NULL, last_used INTEGER);
   CREATE INDEX second_factor_passkeys_by_user ON second_factor_passkeys (user_key, created);
   CREATE TABLE second_factor_challenges (challenge TEXT PRIMARY KEY, user_key TEXT NOT NULL, purpose TEXT NOT NULL, expires INTEGER NOT NULL);
   CREATE INDEX second_factor_challenges_by_expiry ON second_factor_challenges (expires);`,
];

type Row = Record<string, SQLInputValue>;

export class SqliteSecondFactorStore implements SecondFactorStore {
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
      migrateSqlite(db, 'second_factor_schema', MIGRATIONS);
      this.#db = db;
    } catch (e) {
      throw new SecondFactorStoreError(this.describe, (e as Error).message);
    }
  }

  async putPendingTotp(userKey: string, secret: Sealed, expires: number): Promise<void> {
    this.#run((db) =>
      db
        .prepare('INSERT INTO second_factor_pending (user_key, key_id, data, expires) VALUES (?, ?, ?, ?) ON CONFLICT (user_key) DO UPDATE SET key_id = excluded.key_id, data = excluded.data, expires = excluded.expires')
        .run(userKey.toLowerCase(), secret.keyId, secret.data, expires),
    );
  }

  async pendingTotp(userKey: string, now: number): Promise<Sealed | undefined> {
    const r = this.#run((db) => db.prepare('SELECT key_id, data FROM second_factor_pending WHERE user_key = ? AND expires > ?').get(userKey.toLowerCase(), now) as Row | undefined);
    return r ? { keyId: String(r.key_id), data: String(r.data) } : undefined;
  }

  async activateTotp(userKey: string, secret: Sealed, step: number, now: number): Promise<boolean> {
    const k = userKey.toLowerCase();
    return this.#run((db) =>
      immediate(db, () => {
        const gone = db.prepare('DELETE FROM second_factor_pending WHERE user_key = ? AND key_id = ? AND data = ? AND expires > ?').run(k, secret.keyId, secret.data, now);
        if (Number(gone.changes) !== 1) return false;
        db.prepare('INSERT INTO second_factor_totp (user_key, key_id, data, created) VALUES (?, ?, ?, ?) ON CONFLICT (user_key) DO UPDATE SET key_id = excluded.key_id, data = excluded.data, created = excluded.created').run(k, secret.keyId, secret.data, now);
        db.prepare('INSERT INTO second_factor_steps (user_key, step) VALUES (?, ?) ON CONFLICT (user_key) DO UPDATE SET step = max(step, excluded.step)').run(k, step);
        return true;
      }),
    );
  }

  async activeTotp(userKey: string): Promise<Sealed | undefined> {
    const r = this.#run((db) => db.prepare('SELECT key_id, data FROM second_factor_totp WHERE user_key = ?').get(userKey.toLowerCase()) as Row | undefined);
    return r ? { keyId: String(r.key_id), data: String(r.data) } : undefined;
  }

  async acceptTotpStep(userKey: string, step: number): Promise<boolean> {
    // One statement: the row is inserted, or updated only when the step is greater.
    const r = this.#run((db) =>
      db.prepare('INSERT INTO second_factor_steps (user_key, step) VALUES (?, ?) ON CONFLICT (user_key) DO UPDATE SET step = excluded.step WHERE second_factor_steps.step < excluded.step').run(userKey.toLowerCase(), step),
    );
    return Number(r.changes) === 1;
  }

  async addPasskey(userKey: string, p: StoredPasskey): Promise<boolean> {
    const r = this.#run((db) =>
      db
        .prepare('INSERT INTO second_factor_passkeys (id, user_key, public_key, counter, transports, name, created, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING')
        .run(p.id, userKey.toLowerCase(), p.publicKey, p.counter, JSON.stringify(p.transports), p.name, p.createdAt, p.lastUsedAt ?? null),
    );
    return Number(r.changes) === 1;
  }

  async passkeys(userKey: string): Promise<StoredPasskey[]> {
    const rows = this.#run((db) => db.prepare('SELECT * FROM second_factor_passkeys WHERE user_key = ? ORDER BY created, id').all(userKey.toLowerCase()) as Row[]);
    return rows.map(passkeyOf);
  }

  async passkey(userKey: string, id: string): Promise<StoredPasskey | undefined> {
    const r = this.#run((db) => db.prepare('SELECT * FROM second_factor_passkeys WHERE user_key = ? AND id = ?').get(userKey.toLowerCase(), id) as Row | undefined);
    return r ? passkeyOf(r) : undefined;
  }

  async usePasskey(userKey: string, id: string, counter: number, now: number): Promise<boolean> {
    const r = this.#run((db) =>
      db.prepare('UPDATE second_factor_passkeys SET counter = ?, last_used = ? WHERE user_key = ? AND id = ? AND (counter < ? OR (counter = 0 AND ? = 0))').run(counter, now, userKey.toLowerCase(), id, counter, counter),
    );
    return Number(r.changes) === 1;
  }

  async putChallenge(userKey: string, purpose: ChallengePurpose, challenge: string, now: number, expires: number): Promise<void> {
    this.#run((db) =>
      immediate(db, () => {
        db.prepare('DELETE FROM second_factor_challenges WHERE expires <= ?').run(now);
        db.prepare('INSERT INTO second_factor_challenges (challenge, user_key, purpose, expires) VALUES (?, ?, ?, ?)').run(challenge, userKey.toLowerCase(), purpose, expires);
      }),
    );
  }

  async takeChallenge(userKey: string, purpose: ChallengePurpose, challenge: string, now: number): Promise<boolean> {
    const r = this.#run((db) => db.prepare('DELETE FROM second_factor_challenges WHERE challenge = ? AND user_key = ? AND purpose = ? RETURNING expires').get(challenge, userKey.toLowerCase(), purpose) as Row | undefined);
    return r !== undefined && Number(r.expires) > now;
  }

  async reset(userKey: string): Promise<{ readonly totp: boolean; readonly passkeys: number }> {
    const k = userKey.toLowerCase();
    return this.#run((db) =>
      immediate(db, () => {
        const totp = Number(db.prepare('DELETE FROM second_factor_totp WHERE user_key = ?').run(k).changes) > 0;
        db.prepare('DELETE FROM second_factor_pending WHERE user_key = ?').run(k);
        db.prepare('DELETE FROM second_factor_steps WHERE user_key = ?').run(k);
        const passkeys = Number(db.prepare('DELETE FROM second_factor_passkeys WHERE user_key = ?').run(k).changes);
        db.prepare('DELETE FROM second_factor_challenges WHERE user_key = ?').run(k);
        return { totp, passkeys };
      }),
    );
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
  }

  /** Runs against the open database; any SQLite error becomes one line naming the store. */
  #run<T>(fn: (db: DatabaseSync) => T): T {
    if (!this.#db) throw new SecondFactorStoreError(this.describe, 'not open');
    try {
      return fn(this.#db);
    } catch (e) {
      throw e instanceof SecondFactorStoreError ? e : new SecondFactorStoreError(this.describe, (e as Error).message);
    }
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
