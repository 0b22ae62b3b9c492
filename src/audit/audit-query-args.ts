// `portcullis audit` options → a store filter. Pure, so every bad argument's one-line message is
// table-tested.
import { isIP } from 'node:net';
import { PROTOCOLS } from '../vocabulary/protocols.js';
import { AUDIT_EVENTS, DECISIONS } from './audit-record.js';
import type { AuditFilter } from './record-columns.js';
import { isDeviceId } from '../classify/activesync-query.js';

export const FORMATS = ['table', 'jsonl', 'csv'] as const;
export type AuditFormat = (typeof FORMATS)[number];

export interface AuditArgs {
  readonly user?: string;
  readonly ip?: string;
  readonly protocol?: string;
  readonly decision?: string;
  readonly reason?: string;
  readonly event?: string;
  readonly device?: string;
  readonly since?: string;
  readonly until?: string;
  readonly format?: string;
  readonly limit?: string;
}

export interface AuditQuery {
  readonly filter: AuditFilter;
  readonly format: AuditFormat;
  readonly limit: number;
}

export const DEFAULT_LIMIT = 1000;

const AGO: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `2026-12-01T08:00`, `2026-12-01` (local time, as Date parses it) or `15m` / `2h` / `7d` ago. */
export function parseTime(name: string, v: string, now: number): number {
  const rel = /^(\d+)\s*([smhd])$/.exec(v.trim());
  if (rel) return now - Number(rel[1]) * AGO[rel[2]!]!;
  if (/^\d{4}-\d{2}-\d{2}/.test(v.trim())) {
    const t = Date.parse(v.trim());
    if (Number.isFinite(t)) return t;
  }
  throw new Error(`${name} must be a date and time (2026-12-01T08:00, 2026-12-01T08:00Z) or a time ago (30s, 15m, 2h, 7d), not "${v}"`);
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new Error(`${name} must be one of ${allowed.join(', ')}, not "${v}"`);
  return v as T;
}

/** Throws one-line errors for bad arguments. */
export function parseAuditArgs(a: AuditArgs, now = Date.now()): AuditQuery {
  if (a.ip !== undefined && isIP(a.ip) === 0) throw new Error(`--ip must be an IPv4 or IPv6 address, not "${a.ip}"`);
  if (a.user !== undefined && a.user.trim() === '') throw new Error('--user must not be empty');
  if (a.device !== undefined && !isDeviceId(a.device)) throw new Error(`--device must be a DeviceId (1-64 letters, digits, - or _), not "${a.device}"`);
  if (a.reason !== undefined && !/^[a-z0-9:.-]+$/i.test(a.reason)) throw new Error(`--reason must be a reason code such as not-in-group or revoked, not "${a.reason}"`);
  const since = a.since !== undefined ? parseTime('--since', a.since, now) : undefined;
  const until = a.until !== undefined ? parseTime('--until', a.until, now) : undefined;
  if (since !== undefined && until !== undefined && since >= until) throw new Error('--since must be before --until');
  let limit = DEFAULT_LIMIT;
  if (a.limit !== undefined) {
    if (!/^\d+$/.test(a.limit) || Number(a.limit) < 1) throw new Error(`--limit must be a whole number of records above 0, not "${a.limit}"`);
    limit = Number(a.limit);
  }
  return {
    filter: {
      user: a.user?.trim(),
      clientIp: a.ip,
      protocol: oneOf('--protocol', a.protocol, PROTOCOLS),
      decision: oneOf('--decision', a.decision, DECISIONS),
      reason: a.reason,
      event: oneOf('--event', a.event, AUDIT_EVENTS),
      ...(a.device !== undefined ? { device: a.device } : {}),
      since,
      until,
    },
    format: oneOf('--format', a.format, FORMATS) ?? 'table',
    limit,
  };
}
