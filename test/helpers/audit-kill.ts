// One kill -9 trial for the audit trail's durability promise: a child process records at a steady
// rate through the real trail, is killed at an arbitrary moment, and the store is read back.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

/** Timer lateness and the commit's own time on a busy two-core machine (processes at nice 19). */
export const SLACK_MS = 150;

const CHILD = new URL('./audit-load-child.ts', import.meta.url).pathname;

export interface KillTrial {
  readonly accepted: number;
  readonly committed: number;
  readonly lost: number;
  /** Age at the kill of the oldest record missing (0: none missing). */
  readonly windowMs: number;
}

/**
 * `readSeqs` returns the `connection` field of every stored record in id order; it must be a
 * prefix of what was accepted: in order, nothing twice, no gaps.
 */
export async function killTrial(auditConfig: Record<string, unknown>, rate: number, readSeqs: () => Promise<number[]>): Promise<KillTrial> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(auditConfig), String(rate)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`load child exited early (${code})`)));
    const check = () => (out.includes('ready\n') ? resolve() : setTimeout(check, 20));
    check();
  });
  child.removeAllListeners('exit');
  // Some seconds of load, then kill at an arbitrary point of a commit interval.
  await new Promise((r) => setTimeout(r, 1500 + Math.random() * 1000));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  const killedAt = Date.now();
  await exited;
  const accepted = new Map<number, number>();
  for (const line of out.split('\n')) {
    const m = /^(\d+) (\d+)$/.exec(line);
    if (m) accepted.set(Number(m[1]), Number(m[2]));
  }
  const seqs = await readSeqs();
  assert.deepEqual(seqs, seqs.map((_, i) => i), 'the store holds a prefix of what was recorded: in order, none twice, no gaps');
  const committed = seqs.length;
  const firstLost = accepted.get(committed);
  return { accepted: accepted.size, committed, lost: accepted.size - committed, windowMs: firstLost === undefined ? 0 : killedAt - firstLost };
}

export function describeTrials(label: string, rate: number, commitMs: number, trials: readonly KillTrial[]): string {
  const worst = Math.max(...trials.map((t) => t.windowMs));
  return `${label}: kill -9 at ${rate} records/s, commit interval ${commitMs} ms: lost ${trials.map((t) => `${t.lost}/${t.accepted}`).join(', ')} records; oldest missing record ${trials.map((t) => t.windowMs).join(', ')} ms old (worst ${worst} ms)`;
}
