// Runs one input through a target and turns whatever escapes into a finding. Also the per-input
// time budget: an input slower than `slowMs` twice in a row is reported (a real hang never
// returns; the watchdog in campaign.ts handles that one).
import type { Heartbeat } from './heartbeat.js';
import type { FuzzTarget } from './target.js';

export type FindingKind = 'crash' | 'invariant' | 'slow' | 'timeout' | 'worker-died';

export interface Finding {
  readonly kind: FindingKind;
  /** De-duplication key: kind, error type, message without numbers, first stack frame. */
  readonly signature: string;
  readonly message: string;
  readonly stack: string;
  readonly input: Buffer;
  /** Executions of the campaign when it was found (set by the loop). */
  readonly atExec?: number;
}

export interface Executor {
  /** Runs the input; undefined when every oracle held. */
  run(input: Buffer): Finding | undefined;
}

export function createExecutor(target: FuzzTarget, slowMs: number, heartbeat?: Heartbeat): Executor {
  const timed = (input: Buffer): { error?: unknown; ms: number } => {
    heartbeat?.begin(input);
    const t0 = performance.now();
    try {
      target.run(input);
      return { ms: performance.now() - t0 };
    } catch (error) {
      return { error, ms: performance.now() - t0 };
    } finally {
      heartbeat?.end();
    }
  };
  return {
    run(input) {
      let r = timed(input);
      if (r.error !== undefined) return errorFinding(r.error, input);
      if (r.ms > slowMs) {
        r = timed(input); // a GC pause or a busy machine should not count: it must be slow twice
        if (r.error === undefined && r.ms > slowMs) {
          const message = `input took ${r.ms.toFixed(0)} ms (budget ${slowMs} ms)`;
          return { kind: 'slow', signature: `slow:${input.length}`, message, stack: '', input };
        }
      }
      return undefined;
    },
  };
}

export function errorFinding(error: unknown, input: Buffer): Finding {
  const e = error instanceof Error ? error : new Error(`non-Error thrown: ${String(error)}`);
  const stack = e.stack ?? String(e);
  // Duck-typed: a target may load its own copy of target.ts (another module URL, another class).
  const what = (e as { what?: unknown }).what;
  if (e.name === 'InvariantError' && typeof what === 'string') {
    return { kind: 'invariant', signature: `invariant:${what}`, message: e.message, stack, input };
  }
  const frame = /\n\s+at (.*)/.exec(stack)?.[1] ?? '?';
  const signature = `crash:${e.name}:${e.message.replace(/\d+/g, 'N').slice(0, 120)}@${frame}`;
  return { kind: 'crash', signature, message: `${e.name}: ${e.message}`, stack, input };
}
