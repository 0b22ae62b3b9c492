// Mapping between AuditRecord fields and table columns, and the WHERE clause of a filter: shared
// by both stores so they answer the same query the same way.
import type { AuditRecord, StoredRecord } from './audit-record.js';

/** Record field → column, in insert order. */
export const COLUMNS = [
  ['uid', 'uid'],
  ['ts', 'ts'],
  ['event', 'event'],
  ['decision', 'decision'],
  ['user', 'user_name'],
  ['scheme', 'scheme'],
  ['clientIp', 'client_ip'],
  ['clientPort', 'client_port'],
  ['zone', 'zone'],
  ['listener', 'listener'],
  ['protocol', 'protocol'],
  ['method', 'method'],
  ['path', 'path'],
  ['status', 'status'],
  ['reasons', 'reasons'],
  ['rule', 'rule'],
  ['ref', 'ref'],
  ['connection', 'connection'],
  ['bytesIn', 'bytes_in'],
  ['bytesOut', 'bytes_out'],
  ['durationMs', 'duration_ms'],
  ['requests', 'requests'],
  ['cause', 'cause'],
  ['actor', 'actor'],
  ['text', 'text'],
  ['instance', 'instance'],
  ['deviceId', 'device_id'],
  ['deviceType', 'device_type'],
] as const satisfies ReadonlyArray<readonly [keyof AuditRecord, string]>;

export const COLUMN_LIST = COLUMNS.map(([, c]) => c).join(', ');

export type SqlValue = string | number | null;

/** A record's values in COLUMNS order; reasons as one comma-separated text. */
export function recordValues(r: AuditRecord): SqlValue[] {
  return COLUMNS.map(([f]) => {
    const v = r[f];
    if (v === undefined) return null;
    if (Array.isArray(v)) return v.join(',');
    return v as string | number;
  });
}

const NUMERIC = new Set(['ts', 'client_port', 'status', 'connection', 'bytes_in', 'bytes_out', 'duration_ms', 'requests', 'id']);

/** A row back into a record: nulls dropped, numbers as numbers (PostgreSQL returns BIGINT as text). */
export function rowToRecord(row: Record<string, unknown>): StoredRecord {
  const out: Record<string, unknown> = { id: Number(row['id']) };
  for (const [f, c] of COLUMNS) {
    const v = row[c];
    if (v === null || v === undefined) continue;
    if (f === 'reasons') out[f] = String(v).split(',').filter(Boolean);
    else out[f] = NUMERIC.has(c) ? Number(v) : v;
  }
  return out as unknown as StoredRecord;
}

export interface AuditFilter {
  /** `LAB\alice`, `alice` or `alice@lab.example`, case-insensitive. */
  readonly user?: string | undefined;
  readonly clientIp?: string | undefined;
  readonly protocol?: string | undefined;
  readonly decision?: 'allow' | 'deny' | undefined;
  /** One reason code; matches records that carry it among their reasons. */
  readonly reason?: string | undefined;
  readonly event?: string | undefined;
  /** An ActiveSync DeviceId, any case. */
  readonly device?: string | undefined;
  /** ms since the epoch, inclusive. */
  readonly since?: number | undefined;
  /** ms since the epoch, exclusive. */
  readonly until?: number | undefined;
  /** Only records with a larger id (follow mode). */
  readonly afterId?: number | undefined;
  /** Only records with a smaller id (the console's paging, newest first). */
  readonly beforeId?: number | undefined;
}

const likeEscape = (s: string) => s.replace(/[!%_]/g, (c) => `!${c}`);

/**
 * The WHERE clause and its parameters. `param(n)` writes the n-th placeholder (`?` or `$n`).
 * LIKE always names its escape character: PostgreSQL's default is the backslash, which user names
 * contain, and SQLite has none.
 */
export function whereClause(f: AuditFilter, param: (n: number) => string): { sql: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  const p = (v: SqlValue) => {
    params.push(v);
    return param(params.length);
  };
  if (f.user !== undefined) {
    const u = f.user.toLowerCase();
    parts.push(`(lower(user_name) = ${p(u)} OR lower(user_name) LIKE ${p(`%\\${likeEscape(u)}`)} ESCAPE '!' OR lower(user_name) LIKE ${p(`${likeEscape(u)}@%`)} ESCAPE '!')`);
  }
  if (f.clientIp !== undefined) parts.push(`client_ip = ${p(f.clientIp)}`);
  if (f.protocol !== undefined) parts.push(`protocol = ${p(f.protocol)}`);
  if (f.decision !== undefined) parts.push(`decision = ${p(f.decision)}`);
  if (f.event !== undefined) parts.push(`event = ${p(f.event)}`);
  if (f.device !== undefined) parts.push(`lower(device_id) = ${p(f.device.toLowerCase())}`);
  if (f.reason !== undefined) parts.push(`(',' || reasons || ',') LIKE ${p(`%,${likeEscape(f.reason)},%`)} ESCAPE '!'`);
  if (f.since !== undefined) parts.push(`ts >= ${p(f.since)}`);
  if (f.until !== undefined) parts.push(`ts < ${p(f.until)}`);
  if (f.afterId !== undefined) parts.push(`id > ${p(f.afterId)}`);
  if (f.beforeId !== undefined) parts.push(`id < ${p(f.beforeId)}`);
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}
