// The IPC vocabulary between `portcullis serve`'s primary process and its gateway workers.
import type { ConnectionView, ProcessStats } from '../admin/control.js';
import type { RunningListener } from '../listen/gateway.js';
import type { AttemptAnswer, AttemptRequest, UserStateUpdate } from '../policy/replica-user-states.js';
import type { AdmitRule, DeviceChange, DeviceRecord } from '../state/device-store.js';
import type { DeviceRef } from '../vocabulary/device.js';

/** The environment variable that tells a forked worker its slot (0 … workers-1), kept by its replacement. */
export const WORKER_SLOT_ENV = 'PORTCULLIS_WORKER_SLOT';

/** Questions the primary asks every worker; each answers with a reply carrying the same id. */
export interface WorkerQuestions {
  connections: ConnectionView[];
  stats: ProcessStats;
  /** Re-check live connections (after a revocation); the answer is how many were closed. */
  reevaluate: number;
  reload: boolean;
  /** The worker's metrics as prom-client JSON (null with metrics off); the primary adds them up. */
  metrics: MetricsJson | null;
  /** Close one connection (an operator's action): true from the worker that held it. */
  close: boolean;
}

/** What a question carries besides its name (only `close` has anything). */
export interface CloseQuestion {
  readonly id: number;
  /** The worker holding the connection, as the connections view named it. */
  readonly worker: number | undefined;
  readonly actor: string;
}

export type MetricsJson = Awaited<ReturnType<import('prom-client').Registry['getMetricsAsJSON']>>;

export type ToWorker =
  | { readonly t: 'update'; readonly update: UserStateUpdate }
  | { readonly t: 'ask'; readonly id: number; readonly q: keyof WorkerQuestions; readonly close?: CloseQuestion }
  /** The answer to the worker's attempt reservation `id`. */
  | { readonly t: 'attempt'; readonly id: number; readonly answer: AttemptAnswer }
  /** A device change every replica applies (a resync before the worker serves); with `id`, the worker replies how many connections it closed. */
  | { readonly t: 'device'; readonly change: DeviceChange; readonly id?: number }
  /** The answer to the worker's device admission `id`. */
  | { readonly t: 'device-admitted'; readonly id: number; readonly record: DeviceRecord | null; readonly failed?: boolean };

export type ToPrimary =
  /** The worker's message handler is installed: send the state snapshot. */
  | { readonly t: 'hello' }
  | { readonly t: 'listening'; readonly listeners: readonly RunningListener[] }
  /** Reserve or settle a login attempt slot (src/policy/login-attempts.ts). */
  | { readonly t: 'attempt'; readonly req: AttemptRequest }
  /** A device the worker's replica does not know: record it in the store (DeviceStore.admitNew). */
  | { readonly t: 'device-admit'; readonly id: number; readonly user: string; readonly device: DeviceRef; readonly rule: AdmitRule }
  | { readonly t: 'reply'; readonly id: number; readonly value: unknown }
  /** The worker could not start (a port in use…): the line to print, and the exit code. */
  | { readonly t: 'failed'; readonly message: string; readonly exitCode: number };

export function isToPrimary(m: unknown): m is ToPrimary {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}

export function isToWorker(m: unknown): m is ToWorker {
  return typeof m === 'object' && m !== null && ['update', 'ask', 'attempt', 'device', 'device-admitted'].includes((m as { t?: unknown }).t as string);
}
