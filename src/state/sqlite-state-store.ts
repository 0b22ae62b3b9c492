// The embedded state store: a SQLite file in state.dataDir (WAL), so a single host's restart
// forgets no revocation, lock or failure count. node:sqlite is synchronous; every call is one short
// transaction on an indexed table (tens of microseconds, no fsync per commit with WAL and
// synchronous=NORMAL), made only when something changes or a login reserves a slot, never on a
// request that carries no new credential. BEGIN IMMEDIATE makes each reservation atomic even if a
// second process opened the same file.
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { immediate, migrateSqlite, openStateDatabase } from './sqlite-database.js';
import type { Revocation } from '../policy/user-states.js';
import type { Lock, LockoutRule, SlotAnswer, StateChange, StateSnapshot, StateStore } from './state-store.js';
import { StateStoreError } from './state-store.js';

/** Numbered migrations; each runs once, in order, in one transaction with its version row. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE revocations (key_lower TEXT PRIMARY KEY, key TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL, until INTEGER);
   CREATE TABLE locks (key_lower TEXT PRIMARY KEY, key TEXT NOT NULL, until INTEGER NOT NULL);
   CREATE TABLE failures (key_lower TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL);
   CREATE INDEX failures_by_key ON failures (key_lower, at);
   CREATE TABLE slots (slot TEXT PRIMARY KEY, key_lower TEXT NOT NULL, expires INTEGER NOT NULL);
   CREATE INDEX slots_by_key ON slots (key_lower, expires);`,
];

type Row = Record<string, SQLInputValue>;

export class SqliteStateStore implements StateStore {
  readonly describe: string;
  readonly shared = false;
  readonly #file: string;
  #db: DatabaseSync | undefined;

  constructor(file: string) {
    this.#file = file;
    this.describe = file;
  }

  async open(now: number, rule: LockoutRule): Promise<StateSnapshot> {
    try {
      const db = openStateDatabase(this.#file);
      migrateSqlite(db, 'state_schema', MIGRATIONS);
      this.#db = db;
    } catch (e) {
      throw new StateStoreError(this.describe, (e as Error).message);
    }
    return this.snapshot(now, rule);
  }

  async snapshot(now: number, rule: LockoutRule): Promise<StateSnapshot> {
    const db = this.#open();
    return immediate(db, () => {
      // What has run out goes now, so the file does not grow with users who never come back.
      db.prepare('DELETE FROM revocations WHERE until IS NOT NULL AND until <= ?').run(now);
      db.prepare('DELETE FROM failures WHERE at <= ?').run(now - rule.window);
      db.prepare('DELETE FROM failures WHERE key_lower IN (SELECT key_lower FROM locks WHERE until <= ?)').run(now);
      db.prepare('DELETE FROM locks WHERE until <= ?').run(now);
      db.prepare('DELETE FROM slots WHERE expires <= ?').run(now);
      const revocations = (db.prepare('SELECT key, reason, at, until FROM revocations ORDER BY at').all() as Row[]).map(revocationOf);
      const locks = (db.prepare('SELECT key, until FROM locks').all() as Row[]).map((r) => ({ key: String(r.key), until: Number(r.until) }));
      const failures = (db.prepare('SELECT min(key) AS key, count(*) AS n FROM failures GROUP BY key_lower').all() as Row[]).map((r) => ({ key: String(r.key), count: Number(r.n) }));
      return { revocations, locks, failures };
    });
  }

  async putRevocation(r: Revocation): Promise<void> {
    this.#open()
      .prepare('INSERT INTO revocations (key_lower, key, reason, at, until) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_lower) DO UPDATE SET key = excluded.key, reason = excluded.reason, at = excluded.at, until = excluded.until')
      .run(r.key.toLowerCase(), r.key, r.reason, r.at, r.until ?? null);
  }

  async deleteRevocation(key: string, now: number): Promise<boolean> {
    const db = this.#open();
    return immediate(db, () => {
      const r = db.prepare('SELECT until FROM revocations WHERE key_lower = ?').get(key.toLowerCase()) as Row | undefined;
      db.prepare('DELETE FROM revocations WHERE key_lower = ?').run(key.toLowerCase());
      return r !== undefined && (r.until === null || Number(r.until) > now);
    });
  }

  async revocation(key: string, now: number): Promise<Revocation | undefined> {
    const r = this.#open().prepare('SELECT key, reason, at, until FROM revocations WHERE key_lower = ? AND (until IS NULL OR until > ?)').get(key.toLowerCase(), now) as Row | undefined;
    return r ? revocationOf(r) : undefined;
  }

  async unlock(key: string): Promise<void> {
    const db = this.#open();
    immediate(db, () => {
      db.prepare('DELETE FROM locks WHERE key_lower = ?').run(key.toLowerCase());
      db.prepare('DELETE FROM failures WHERE key_lower = ?').run(key.toLowerCase());
    });
  }

  async reserve(key: string, slot: string, now: number, rule: LockoutRule): Promise<SlotAnswer> {
    const db = this.#open();
    const k = key.toLowerCase();
    return immediate(db, () => {
      const lock = db.prepare('SELECT until FROM locks WHERE key_lower = ?').get(k) as Row | undefined;
      if (lock && Number(lock.until) > now) return 'locked-out';
      if (lock) {
        db.prepare('DELETE FROM locks WHERE key_lower = ?').run(k);
        db.prepare('DELETE FROM failures WHERE key_lower = ?').run(k);
      }
      db.prepare('DELETE FROM slots WHERE key_lower = ? AND expires <= ?').run(k, now);
      const failures = Number((db.prepare('SELECT count(*) AS n FROM failures WHERE key_lower = ? AND at > ?').get(k, now - rule.window) as Row).n);
      const inFlight = Number((db.prepare('SELECT count(*) AS n FROM slots WHERE key_lower = ?').get(k) as Row).n);
      if (failures + inFlight >= rule.threshold) return 'full';
      db.prepare('INSERT INTO slots (slot, key_lower, expires) VALUES (?, ?, ?)').run(slot, k, now + rule.attemptHold);
      return 'ok';
    });
  }

  async settle(key: string, slot: string, outcome: 'success' | 'failure' | 'none', now: number, rule: LockoutRule): Promise<number | undefined> {
    const db = this.#open();
    const k = key.toLowerCase();
    return immediate(db, () => {
      db.prepare('DELETE FROM slots WHERE slot = ?').run(slot);
      if (outcome === 'success') db.prepare('DELETE FROM failures WHERE key_lower = ?').run(k);
      if (outcome !== 'failure') return undefined;
      db.prepare('DELETE FROM failures WHERE key_lower = ? AND at <= ?').run(k, now - rule.window);
      db.prepare('INSERT INTO failures (key_lower, key, at) VALUES (?, ?, ?)').run(k, key, now);
      const n = Number((db.prepare('SELECT count(*) AS n FROM failures WHERE key_lower = ?').get(k) as Row).n);
      const lock = db.prepare('SELECT until FROM locks WHERE key_lower = ?').get(k) as Row | undefined;
      if (n < rule.threshold || (lock && Number(lock.until) > now)) return undefined;
      const until = now + rule.cooldown;
      db.prepare('INSERT INTO locks (key_lower, key, until) VALUES (?, ?, ?) ON CONFLICT (key_lower) DO UPDATE SET key = excluded.key, until = excluded.until').run(k, key, until);
      return until;
    });
  }

  async putLock(lock: Lock): Promise<void> {
    this.#open()
      .prepare('INSERT INTO locks (key_lower, key, until) VALUES (?, ?, ?) ON CONFLICT (key_lower) DO UPDATE SET until = max(locks.until, excluded.until)')
      .run(lock.key.toLowerCase(), lock.key, lock.until);
  }

  watch(_listener: (c: StateChange) => void): void {
    // One host: every change to this file is made by this process (or, with workers, its primary).
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
  }

  #open(): DatabaseSync {
    if (!this.#db) throw new StateStoreError(this.describe, 'not open');
    return this.#db;
  }

}

function revocationOf(r: Row): Revocation {
  return { key: String(r.key), reason: String(r.reason), at: Number(r.at), until: r.until === null || r.until === undefined ? undefined : Number(r.until) };
}
