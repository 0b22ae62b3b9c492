import type { CheckResult, Finding, Status } from './types.js';

export interface Outcome {
  readonly status: Status;
  readonly evidence?: readonly string[];
  readonly findings?: readonly Finding[];
}

/** Runs one check, timing it; an exception becomes a failed check with its message as evidence. */
export async function runCheck(group: string, title: string, fn: () => Promise<Outcome>, onDone?: (r: CheckResult) => void): Promise<CheckResult> {
  const t0 = performance.now();
  let o: Outcome;
  try {
    o = await fn();
  } catch (e) {
    o = { status: 'fail', evidence: [`error: ${(e as Error).message}`] };
  }
  const r: CheckResult = { group, title, status: o.status, evidence: o.evidence ?? [], findings: o.findings ?? [], ms: Math.round(performance.now() - t0) };
  onDone?.(r);
  return r;
}

export function skip(why: string): Outcome {
  return { status: 'skip', evidence: [why] };
}

export function finding(id: string, detail: string): Finding {
  return { id, detail };
}
