// The fuzzing worker: one per target campaign. It runs in its own thread so that the watchdog in
// campaign.ts can stop a parser stuck in a loop (Worker.terminate interrupts synchronous code),
// and so that the coverage session sees only this target's code.
import { parentPort, workerData } from 'node:worker_threads';
import { loadSeeds } from './corpus.js';
import { startCoverage } from './coverage.js';
import { type Finding, createExecutor } from './execute.js';
import { Heartbeat } from './heartbeat.js';
import { type LoopStats, fuzzLoop } from './loop.js';
import { type FuzzTarget, dictionaryBytes } from './target.js';
import { warmUp } from './warm-up.js';

export interface WorkerInput {
  readonly targetUrl: string;
  readonly corpusDir: string;
  readonly heartbeat: SharedArrayBuffer;
  readonly execs: number;
  readonly seconds: number;
  readonly seed: string;
  readonly batch: number;
  readonly preciseEvery: number;
  readonly preciseCount: number;
  readonly guided: boolean;
  readonly maxFindings: number;
  readonly slowMs: number;
}

export type WorkerMessage =
  | { readonly type: 'ready'; readonly name: string }
  | { readonly type: 'progress'; readonly stats: LoopStats }
  | { readonly type: 'finding'; readonly finding: Finding }
  | { readonly type: 'done'; readonly stats: LoopStats };

const input = workerData as WorkerInput;
const port = parentPort!;
const send = (m: WorkerMessage) => port.postMessage(m);

warmUp();
const coverage = startCoverage(); // before the import: code compiled earlier has no block counters
const target = ((await import(input.targetUrl)) as { default: FuzzTarget }).default;
const heartbeat = new Heartbeat(input.heartbeat);
const executor = createExecutor(target, input.slowMs, heartbeat);
send({ type: 'ready', name: target.name });
const stats = fuzzLoop(loadSeeds(input.corpusDir), executor, coverage.probe(target.sources), {
  execs: input.execs,
  deadline: Number.isFinite(input.seconds) ? performance.now() + input.seconds * 1000 : Infinity,
  seed: `${input.seed}:${target.name}`,
  batch: input.batch,
  preciseEvery: input.preciseEvery,
  preciseCount: input.preciseCount,
  guided: input.guided,
  maxFindings: input.maxFindings,
  maxLen: Math.min(target.maxLen ?? 4096, input.heartbeat.byteLength - 8),
  dictionary: dictionaryBytes(target),
  onFinding: (finding) => send({ type: 'finding', finding }),
  onProgress: (s) => send({ type: 'progress', stats: s }),
});
send({ type: 'done', stats });
