// What the audit trail needs from a database. Two implementations: SQLite (embedded, the default)
// and PostgreSQL (one store for several gateway instances); one contract suite tests both
// (test/contracts/audit-store.ts).
import type { AuditRecord, StoredRecord } from './audit-record.js';
import type { AuditFilter } from './record-columns.js';

export interface QueryOptions {
  /** Oldest first (the default, and what --follow needs) or newest first. */
  readonly order?: 'asc' | 'desc';
  readonly limit?: number;
}

export interface AuditStore {
  /** Human-readable target for logs and errors (a file path, or host:port/db without credentials). */
  readonly describe: string;
  /** Creates or upgrades the schema to `target` (default: the latest); returns the version reached. */
  migrate(target?: number): Promise<number>;
  /** The schema version found (0: empty). */
  schemaVersion(): Promise<number>;
  /**
   * Writes the records in one transaction, in order. A record whose uid is already stored is
   * skipped, so a batch may be retried or a spool replayed without duplicates. Throws when the
   * database cannot be written.
   */
  append(records: readonly AuditRecord[]): Promise<void>;
  query(filter: AuditFilter, opts?: QueryOptions): Promise<StoredRecord[]>;
  /** Deletes records older than `before` (ms since the epoch); returns how many. */
  prune(before: number): Promise<number>;
  close(): Promise<void>;
}

/** A store failure worth one line to an admin: which store, what went wrong, never a stack trace. */
export class AuditStoreError extends Error {
  constructor(store: string, message: string) {
    super(`audit store ${store}: ${message}`);
    this.name = 'AuditStoreError';
  }
}
