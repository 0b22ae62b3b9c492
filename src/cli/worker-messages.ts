// The IPC vocabulary between `portcullis serve`'s primary process and its gateway workers.
import type { ConnectionView } from '../admin/control.js';
import type { RunningListener } from '../listen/gateway.js';
import type { LoginOutcome, UserStateUpdate } from '../policy/replica-user-states.js';

/** Questions the primary asks every worker; each answers with a reply carrying the same id. */
export interface WorkerQuestions {
  connections: ConnectionView[];
  /** Re-check live connections (after a revocation); the answer is how many were closed. */
  reevaluate: number;
  reload: boolean;
}

export type ToWorker =
  | { readonly t: 'update'; readonly update: UserStateUpdate }
  | { readonly t: 'ask'; readonly id: number; readonly q: keyof WorkerQuestions };

export type ToPrimary =
  /** The worker's message handler is installed: send the state snapshot. */
  | { readonly t: 'hello' }
  | { readonly t: 'listening'; readonly listeners: readonly RunningListener[] }
  | { readonly t: 'login'; readonly outcome: LoginOutcome }
  | { readonly t: 'reply'; readonly id: number; readonly value: unknown };

export function isToPrimary(m: unknown): m is ToPrimary {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}

export function isToWorker(m: unknown): m is ToWorker {
  return typeof m === 'object' && m !== null && ((m as { t?: unknown }).t === 'update' || (m as { t?: unknown }).t === 'ask');
}
