// Prints audit records as a table (people), JSON lines (scripts, SIEM) or CSV (spreadsheets).
// Records carry what clients sent (a claimed user name, a path): the table shows control
// characters escaped so a crafted name cannot drive the terminal, and CSV cells that a spreadsheet
// would run as a formula are quoted as text.
import type { StoredRecord } from './audit-record.js';
import type { AuditFormat } from './audit-query-args.js';

/** Control characters (C0, DEL, C1) as \xNN. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const kib = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`);
const secs = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

/** The "why" column: what a reader needs for this kind of record. */
export function detail(r: StoredRecord): string {
  const parts: string[] = [];
  if (r.reasons?.length) parts.push(r.reasons.join(','));
  if (r.rule) parts.push(`rule ${r.rule}`);
  switch (r.event) {
    case 'connection-closed':
      parts.push(`${r.requests ?? 0} req, ${kib(r.bytesIn ?? 0)} in, ${kib(r.bytesOut ?? 0)} out, ${secs(r.durationMs ?? 0)}`);
      break;
    case 'revoked':
    case 'unrevoked':
    case 'locked-out':
    case 'unlocked':
    case '2fa-reset':
    case 'reload':
    case 'reload-refused':
    case 'admin-action':
    case 'device-changed':
      if (r.actor) parts.push(`by ${r.actor}`);
      if (r.text) parts.push(`"${r.text}"`);
      break;
    default:
      if (r.text) parts.push(r.text);
  }
  if (r.cause) parts.push(r.cause);
  if (r.deviceId) parts.push(`device ${r.deviceId}${r.deviceType ? ` (${r.deviceType})` : ''}`);
  if (r.ref) parts.push(`ref ${r.ref}`);
  return parts.join('; ');
}

const TABLE: ReadonlyArray<[string, number, (r: StoredRecord) => string]> = [
  ['TIME (UTC)', 23, (r) => new Date(r.ts).toISOString().replace('T', ' ').replace('Z', '')],
  ['EVENT', 17, (r) => r.event],
  ['DECISION', 8, (r) => r.decision ?? ''],
  ['USER', 20, (r) => r.user ?? ''],
  ['SCHEME', 9, (r) => r.scheme ?? ''],
  ['CLIENT', 22, (r) => (r.clientIp ? (r.clientIp.includes(':') ? `[${r.clientIp}]` : r.clientIp) + (r.clientPort ? `:${r.clientPort}` : '') : '')],
  ['ZONE', 8, (r) => r.zone ?? ''],
  ['PROTOCOL', 12, (r) => r.protocol ?? ''],
  ['STATUS', 6, (r) => (r.status !== undefined ? String(r.status) : '')],
];

export function tableHeader(): string {
  return [...TABLE.map(([h, w]) => h.padEnd(w)), 'WHY'].join(' ');
}

export function tableRow(r: StoredRecord): string {
  return [...TABLE.map(([, w, f]) => printable(f(r)).padEnd(w)), printable(detail(r))].join(' ');
}

const CSV_FIELDS: ReadonlyArray<[string, (r: StoredRecord) => unknown]> = [
  ['id', (r) => r.id],
  ['time', (r) => new Date(r.ts).toISOString()],
  ['event', (r) => r.event],
  ['decision', (r) => r.decision],
  ['user', (r) => r.user],
  ['scheme', (r) => r.scheme],
  ['client_ip', (r) => r.clientIp],
  ['client_port', (r) => r.clientPort],
  ['zone', (r) => r.zone],
  ['listener', (r) => r.listener],
  ['protocol', (r) => r.protocol],
  ['method', (r) => r.method],
  ['path', (r) => r.path],
  ['status', (r) => r.status],
  ['reasons', (r) => r.reasons?.join(' ')],
  ['rule', (r) => r.rule],
  ['ref', (r) => r.ref],
  ['connection', (r) => r.connection],
  ['bytes_in', (r) => r.bytesIn],
  ['bytes_out', (r) => r.bytesOut],
  ['duration_ms', (r) => r.durationMs],
  ['requests', (r) => r.requests],
  ['cause', (r) => r.cause],
  ['actor', (r) => r.actor],
  ['text', (r) => r.text],
  ['instance', (r) => r.instance],
  ['uid', (r) => r.uid],
  // Added last (issue 15): a spreadsheet reading columns by position keeps working.
  ['device_id', (r) => r.deviceId],
  ['device_type', (r) => r.deviceType],
];

/** RFC 4180 quoting; a text cell starting like a formula gets a leading apostrophe. */
export function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvHeader(): string {
  return CSV_FIELDS.map(([h]) => h).join(',');
}

export function csvRow(r: StoredRecord): string {
  return CSV_FIELDS.map(([, f]) => csvCell(f(r))).join(',');
}

/** A printer: the header once (table, csv), then one line per record. */
export function printer(format: AuditFormat, write: (line: string) => void): (r: StoredRecord) => void {
  if (format === 'jsonl') return (r) => write(JSON.stringify(r));
  write(format === 'csv' ? csvHeader() : tableHeader());
  return format === 'csv' ? (r) => write(csvRow(r)) : (r) => write(tableRow(r));
}
