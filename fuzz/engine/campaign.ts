// Main-thread side of one target's campaign: starts the worker, watches its heartbeat, and turns
// a hang or a dead worker into a finding carrying the input that caused it.
import { Worker } from 'node:worker_threads';
import type { Finding } from './execute.js';
import { Heartbeat } from './heartbeat.js';
import type { LoopStats } from './loop.js';
import type { WorkerInput, WorkerMessage } from './worker.js';

export interface CampaignOptions {
  /** URL of the module whose default export is the FuzzTarget. */
  readonly targetUrl: string;
  readonly corpusDir: string;
  readonly execs: number;
  /** Wall-clock cap for the loop; Infinity for none (then runs are reproducible). */
  readonly seconds: number;
  readonly seed: string;
  readonly batch?: number;
  readonly preciseEvery?: number;
  readonly preciseCount?: number;
  readonly guided?: boolean;
  readonly maxFindings?: number;
  /** Per-input budget: slower twice in a row is a finding. */
  readonly slowMs?: number;
  /** No execution finished for this long: the worker is stopped and the input reported. */
  readonly hangMs?: number;
  readonly onProgress?: (s: LoopStats) => void;
}

export interface CampaignResult {
  readonly name: string;
  readonly stats: LoopStats;
  readonly findings: Finding[];
}

const MAX_INPUT = 64 * 1024;
const EMPTY: LoopStats = { execs: 0, reruns: 0, takes: 0, corpus: 0, blocksStart: 0, blocks: 0, knownBlocks: 0, features: 0, seconds: 0, findings: 0 };

export function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const heartbeat = new Heartbeat(MAX_INPUT);
  const workerData: WorkerInput = {
    targetUrl: o.targetUrl,
    corpusDir: o.corpusDir,
    heartbeat: heartbeat.buffer,
    execs: o.execs,
    seconds: o.seconds,
    seed: o.seed,
    batch: o.batch ?? 256,
    preciseEvery: o.preciseEvery ?? 8,
    preciseCount: o.preciseCount ?? 8,
    guided: o.guided ?? true,
    maxFindings: o.maxFindings ?? 10,
    slowMs: o.slowMs ?? 250,
  };
  const hangMs = o.hangMs ?? 5000;
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
    workerData,
    resourceLimits: { maxOldGenerationSizeMb: 1024 },
  });
  let name = o.targetUrl;
  let ready = false;
  let stats: LoopStats | undefined;
  let lastProgress: LoopStats = EMPTY;
  const findings: Finding[] = [];
  let lastCount = -1;
  let lastChange = performance.now();

  return new Promise((resolve, reject) => {
    const watchdog = setInterval(() => {
      const n = heartbeat.finished;
      const now = performance.now();
      if (n !== lastCount) {
        lastCount = n;
        lastChange = now;
      } else if (ready && stats === undefined && now - lastChange > hangMs) {
        findings.push(stopped('timeout', `no execution finished in ${hangMs} ms`, heartbeat.current()));
        void worker.terminate();
      }
    }, Math.min(250, hangMs / 4));
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') {
        ready = true;
        name = m.name;
        lastChange = performance.now();
      } else if (m.type === 'progress') {
        lastProgress = m.stats;
        o.onProgress?.(m.stats);
      } else if (m.type === 'finding') findings.push({ ...m.finding, input: Buffer.from(m.finding.input) });
      else stats = m.stats;
    });
    worker.on('error', (e) => {
      // Before 'ready' this is a set-up failure (bad target module), not a finding.
      if (!ready) return reject(e);
      findings.push(stopped('worker-died', `${e.name}: ${e.message}`, heartbeat.current(), e.stack ?? ''));
    });
    worker.on('exit', () => {
      clearInterval(watchdog);
      if (!ready) return reject(new Error(`fuzz worker for ${o.targetUrl} exited before it was ready`));
      const s = stats ?? lastProgress;
      resolve({ name, stats: { ...s, findings: Math.max(s.findings, findings.length) }, findings });
    });
  });
}

function stopped(kind: 'timeout' | 'worker-died', message: string, input: Buffer, stack = ''): Finding {
  return { kind, signature: `${kind}:${message.replace(/\d+/g, 'N')}`, message, stack, input };
}
