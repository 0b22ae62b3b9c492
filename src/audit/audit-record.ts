// One audit record: a flat row with stable column names, the same in SQLite and PostgreSQL, so
// `portcullis audit` filters and prints any store the same way.
import { randomBytes } from 'node:crypto';
import os from 'node:os';

/**
 * What happened. Denials, identity bindings, closes of identified connections and state changes
 * are always recorded; `request` (an allowed request) only at level `requests`.
 */
export const AUDIT_EVENTS = [
  'denied',
  'login-failed',
  'identity-bound',
  'connection-closed',
  'request',
  'revoked',
  'unrevoked',
  'locked-out',
  'unlocked',
  /** An admin forgot a user's second factor (TOTP and passkeys of browser sign-in). */
  '2fa-reset',
  '2fa-enrolled',
  'reload',
  'reload-refused',
  'drain',
  'console-sign-in',
  'admin-action',
  'device-changed',
] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

export const DECISIONS = ['allow', 'deny'] as const;
export type AuditDecision = (typeof DECISIONS)[number];

export interface AuditRecord {
  /** Unique per record: a replayed spool or a retried batch never writes a record twice. */
  readonly uid: string;
  /** When it happened, ms since the epoch. */
  readonly ts: number;
  readonly event: AuditEvent;
  readonly decision?: AuditDecision | undefined;
  /** The user as claimed or bound (`LAB\alice`), also on a denial before the password was checked. */
  readonly user?: string | undefined;
  /** Authentication scheme: ntlm, basic, negotiate, bearer, kerberos. */
  readonly scheme?: string | undefined;
  readonly clientIp?: string | undefined;
  readonly clientPort?: number | undefined;
  readonly zone?: string | undefined;
  readonly listener?: string | undefined;
  readonly protocol?: string | undefined;
  readonly method?: string | undefined;
  readonly path?: string | undefined;
  readonly status?: number | undefined;
  /** Reason codes of the decision (group-ok, not-in-group, revoked, …). */
  readonly reasons?: readonly string[] | undefined;
  readonly rule?: string | undefined;
  /** The reference id the client saw (X-Portcullis-Ref). */
  readonly ref?: string | undefined;
  /** The gateway's connection id within its process. */
  readonly connection?: number | undefined;
  readonly bytesIn?: number | undefined;
  readonly bytesOut?: number | undefined;
  readonly durationMs?: number | undefined;
  readonly requests?: number | undefined;
  /** Why a connection closed (client-closed, revoked, idle-timeout, …). */
  readonly cause?: string | undefined;
  /** Who made a state change (admin, directory, lockout, file-watch, SIGHUP). */
  readonly actor?: string | undefined;
  /** Free text given with a state change (a revoke's reason). */
  readonly text?: string | undefined;
  /** The gateway instance that wrote it: the host name, `/w<slot>` for a worker process. */
  readonly instance?: string | undefined;
  /** The ActiveSync device (DeviceId, DeviceType) the request named or the change was about. */
  readonly deviceId?: string | undefined;
  readonly deviceType?: string | undefined;
}

/** A record as read back: the store's sequence number first. */
export interface StoredRecord extends AuditRecord {
  readonly id: number;
}

export type RecordInput = Omit<AuditRecord, 'uid' | 'ts' | 'instance'> & { readonly ts?: number };

// A random process prefix and a counter: unique without a random draw per record.
const PREFIX = randomBytes(6).toString('hex');
let counter = 0;
let INSTANCE = os.hostname();

/** Names this process in its records: the host, and with worker processes the worker's slot. */
export function setAuditInstance(name: string): void {
  INSTANCE = name;
}

/** Completes an input into a record: uid, time and instance. */
export function makeRecord(input: RecordInput): AuditRecord {
  return { ...input, uid: `${PREFIX}-${(counter++).toString(36)}`, ts: input.ts ?? Date.now(), instance: INSTANCE };
}
