// Device approvals on one host: their own table in state.sqlite (state.dataDir), next to the
// revocations, with their own schema version table so the two stores migrate independently.
// node:sqlite is synchronous; it is called only when an operator changes a device or a device is
// seen for the first time, never for a device the mirror knows. BEGIN IMMEDIATE makes admitNew's
// count-then-insert atomic even if a second process opened the same file.
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { immediate, migrateSqlite, openStateDatabase } from './sqlite-database.js';
import { type AdmitRule, type DeviceChange, type DeviceRecord, type DeviceState, type DeviceStore, DeviceStoreError } from './device-store.js';

/** Numbered migrations; each runs once, in order, in one transaction with its version row. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE devices (user_lower TEXT NOT NULL, id_lower TEXT NOT NULL, user_name TEXT NOT NULL, device_id TEXT NOT NULL, device_type TEXT,
     state TEXT NOT NULL, first_seen INTEGER NOT NULL, changed_at INTEGER NOT NULL, actor TEXT NOT NULL, PRIMARY KEY (user_lower, id_lower));`,
];

type Row = Record<string, SQLInputValue>;
const COLUMNS = 'user_name, device_id, device_type, state, first_seen, changed_at, actor';

export class SqliteDeviceStore implements DeviceStore {
  readonly describe: string;
  readonly shared = false;
  readonly #file: string;
  #db: DatabaseSync | undefined;

  constructor(file: string) {
    this.#file = file;
    this.describe = file;
  }

  async open(): Promise<DeviceRecord[]> {
    try {
      const db = openStateDatabase(this.#file);
      migrateSqlite(db, 'device_schema', MIGRATIONS);
      this.#db = db;
    } catch (e) {
      throw new DeviceStoreError(this.describe, (e as Error).message);
    }
    return this.list();
  }

  async list(): Promise<DeviceRecord[]> {
    return (this.#open().prepare(`SELECT ${COLUMNS} FROM devices ORDER BY first_seen, rowid`).all() as Row[]).map(recordOf);
  }

  async put(r: DeviceRecord): Promise<DeviceRecord> {
    const db = this.#open();
    return immediate(db, () => {
      db.prepare(
        `INSERT INTO devices (user_lower, id_lower, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_lower, id_lower) DO UPDATE SET device_type = coalesce(excluded.device_type, devices.device_type), state = excluded.state, changed_at = excluded.changed_at, actor = excluded.actor`,
      ).run(r.user.toLowerCase(), r.id.toLowerCase(), r.user, r.id, r.type ?? null, r.state, r.firstSeen, r.changedAt, r.actor);
      return this.#get(db, r.user, r.id)!;
    });
  }

  async remove(user: string, id: string): Promise<DeviceRecord | undefined> {
    const db = this.#open();
    return immediate(db, () => {
      const old = this.#get(db, user, id);
      db.prepare('DELETE FROM devices WHERE user_lower = ? AND id_lower = ?').run(user.toLowerCase(), id.toLowerCase());
      return old;
    });
  }

  async admitNew(user: string, id: string, type: string, now: number, rule: AdmitRule): Promise<DeviceRecord | undefined> {
    const db = this.#open();
    return immediate(db, () => {
      const old = this.#get(db, user, id);
      if (old) return old;
      const count = (s: DeviceState) => Number((db.prepare('SELECT count(*) AS n FROM devices WHERE user_lower = ? AND state = ?').get(user.toLowerCase(), s) as Row).n);
      const state: DeviceState | undefined = count('approved') < rule.autoApprove ? 'approved' : count('quarantined') < rule.maxPending ? 'quarantined' : undefined;
      if (!state) return undefined;
      db.prepare(`INSERT INTO devices (user_lower, id_lower, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        user.toLowerCase(), id.toLowerCase(), user, id, type, state, now, now, state === 'approved' ? 'auto-approve' : 'quarantine',
      );
      return this.#get(db, user, id);
    });
  }

  watch(_listener: (c: DeviceChange) => void): void {
    // One host: every change to this file is made by this process (or, with workers, its primary).
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
  }

  #get(db: DatabaseSync, user: string, id: string): DeviceRecord | undefined {
    const r = db.prepare(`SELECT ${COLUMNS} FROM devices WHERE user_lower = ? AND id_lower = ?`).get(user.toLowerCase(), id.toLowerCase()) as Row | undefined;
    return r ? recordOf(r) : undefined;
  }

  #open(): DatabaseSync {
    if (!this.#db) throw new DeviceStoreError(this.describe, 'not open');
    return this.#db;
  }

}

export function recordOf(r: Record<string, unknown>): DeviceRecord {
  return {
    user: String(r.user_name),
    id: String(r.device_id),
    type: r.device_type === null || r.device_type === undefined ? undefined : String(r.device_type),
    state: String(r.state) as DeviceState,
    firstSeen: Number(r.first_seen),
    changedAt: Number(r.changed_at),
    actor: String(r.actor),
  };
}
