// Numbered schema migrations, one list per dialect with the same numbers. A store applies the ones
// above the version it finds, each in its own transaction with the version row, so a crash leaves
// the schema at a numbered step and never halfway through one.
export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: Record<Dialect, readonly string[]>;
}

const COMMON_COLUMNS = `
  ts BIGINT NOT NULL,
  event TEXT NOT NULL,
  decision TEXT,
  user_name TEXT,
  scheme TEXT,
  client_ip TEXT,
  client_port INTEGER,
  zone TEXT,
  listener TEXT,
  protocol TEXT,
  method TEXT,
  path TEXT,
  status INTEGER,
  reasons TEXT,
  rule TEXT,
  ref TEXT,
  connection BIGINT,
  bytes_in BIGINT,
  bytes_out BIGINT,
  duration_ms BIGINT,
  requests INTEGER,
  cause TEXT,
  actor TEXT,
  text TEXT`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit records',
    sql: {
      sqlite: [`CREATE TABLE audit_records (id INTEGER PRIMARY KEY AUTOINCREMENT, ${COMMON_COLUMNS})`, 'CREATE INDEX audit_records_ts ON audit_records (ts)'],
      postgres: [`CREATE TABLE audit_records (id BIGSERIAL PRIMARY KEY, ${COMMON_COLUMNS})`, 'CREATE INDEX audit_records_ts ON audit_records (ts)'],
    },
  },
  {
    // The spool replays records a crash may already have committed: a unique id makes that a no-op.
    // Several instances share a PostgreSQL store: the instance says which one wrote a record.
    // The CLI's most used filters get indexes.
    version: 2,
    name: 'idempotent replay, instances, filter indexes',
    sql: {
      sqlite: [
        'ALTER TABLE audit_records ADD COLUMN uid TEXT',
        'ALTER TABLE audit_records ADD COLUMN instance TEXT',
        'CREATE UNIQUE INDEX audit_records_uid ON audit_records (uid)',
        'CREATE INDEX audit_records_user ON audit_records (user_name)',
        'CREATE INDEX audit_records_client_ip ON audit_records (client_ip)',
      ],
      postgres: [
        'ALTER TABLE audit_records ADD COLUMN uid TEXT',
        'ALTER TABLE audit_records ADD COLUMN instance TEXT',
        'CREATE UNIQUE INDEX audit_records_uid ON audit_records (uid)',
        'CREATE INDEX audit_records_user ON audit_records (lower(user_name))',
        'CREATE INDEX audit_records_client_ip ON audit_records (client_ip)',
      ],
    },
  },
  {
    // ActiveSync devices (issue 15): the device a request named, or an operator's change was about.
    version: 3,
    name: 'activesync device',
    sql: {
      sqlite: ['ALTER TABLE audit_records ADD COLUMN device_id TEXT', 'ALTER TABLE audit_records ADD COLUMN device_type TEXT'],
      postgres: ['ALTER TABLE audit_records ADD COLUMN device_id TEXT', 'ALTER TABLE audit_records ADD COLUMN device_type TEXT'],
    },
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export const MIGRATIONS_TABLE = 'CREATE TABLE IF NOT EXISTS audit_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)';

/** The migrations to apply to go from `current` to `target`, in order. */
export function pendingMigrations(current: number, target = LATEST_VERSION): readonly Migration[] {
  if (current > LATEST_VERSION) throw new Error(`the audit store has schema version ${current}, newer than this gateway knows (${LATEST_VERSION}): upgrade the gateway`);
  return MIGRATIONS.filter((m) => m.version > current && m.version <= target);
}
