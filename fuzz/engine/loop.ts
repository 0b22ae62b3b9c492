// The coverage-guided loop (libFuzzer's, adapted to V8's coverage cost). Seeds run one by one and
// stay when they add features. Then: pick an entry, mutate, run. A coverage take costs about a
// millisecond whatever ran, so taking one per run would cap us near 1k execs/s. Inputs therefore
// run in batches with one take per batch; only when a batch ran a block never seen before is it
// bisected (re-run by halves, one take per half) down to the inputs that did it, which are kept.
// Summed counts hide hit-count buckets, so the first `preciseCount` inputs of every
// `preciseEvery`-th batch get a take each and are kept for a new bucket alone.
import type { CoverageProbe } from './coverage.js';
import type { Executor, Finding } from './execute.js';
import { FeatureMap } from './feature-map.js';
import { Corpus } from './corpus.js';
import { type MutationContext, mutate } from './mutate.js';
import { createRng } from './rng.js';

export interface LoopOptions {
  /** New inputs to generate and run (re-runs for attribution are not counted). */
  readonly execs: number;
  /** performance.now() value to stop at; Infinity for none. */
  readonly deadline: number;
  readonly seed: string;
  readonly batch: number;
  /** Every n-th batch starts with `preciseCount` inputs taken one by one (0 = never). */
  readonly preciseEvery: number;
  readonly preciseCount: number;
  /** false: mutate the seeds blindly and never grow the corpus (the baseline the test compares). */
  readonly guided: boolean;
  readonly maxFindings: number;
  readonly maxLen: number;
  readonly dictionary: readonly Buffer[];
  readonly onFinding: (f: Finding) => void;
  readonly onProgress?: (s: LoopStats) => void;
}

export interface LoopStats {
  readonly execs: number;
  readonly reruns: number;
  readonly takes: number;
  readonly corpus: number;
  readonly blocksStart: number;
  readonly blocks: number;
  readonly knownBlocks: number;
  readonly features: number;
  readonly seconds: number;
  readonly findings: number;
}

export function fuzzLoop(seeds: readonly Buffer[], exec: Executor, probe: CoverageProbe, o: LoopOptions): LoopStats {
  const rng = createRng(o.seed);
  const map = new FeatureMap();
  const corpus = new Corpus();
  const signatures = new Set<string>();
  let execs = 0;
  let reruns = 0;
  let takes = 0;
  let pending: Buffer[] = [];

  const take = () => {
    takes++;
    return map.extract(probe.take());
  };
  const keepIfNew = (input: Buffer, features: number[]) => {
    if (map.hasNewFeature(features)) {
      map.merge(features);
      corpus.add(input, execs);
    }
  };
  /** Finds which inputs of a batch that ran a new block did it: re-run by halves. */
  const bisect = (inputs: Buffer[]): void => {
    if (inputs.length === 1) {
      exec.run(inputs[0]!);
      reruns++;
      keepIfNew(inputs[0]!, take());
      return;
    }
    const mid = inputs.length >> 1;
    for (const half of [inputs.slice(0, mid), inputs.slice(mid)]) {
      for (const input of half) exec.run(input);
      reruns += half.length;
      if (map.hasNewBlock(take())) bisect(half); // checked after the first half merged its finds
    }
  };
  const flush = () => {
    if (map.hasNewBlock(take()) && pending.length > 0) bisect(pending);
    pending = [];
  };
  const report = (f: Finding) => {
    if (signatures.has(f.signature)) return;
    signatures.add(f.signature);
    o.onFinding({ ...f, atExec: execs });
  };

  take(); // drop what ran before the loop (imports, set-up)
  for (const seed of seeds.length > 0 ? seeds : [Buffer.alloc(0)]) {
    const f = exec.run(seed);
    if (f) report(f);
    const features = take();
    if (map.merge(features) > 0 || !o.guided || corpus.size === 0) corpus.add(seed, 0);
  }
  const blocksStart = map.blocks;
  const ctx: MutationContext = { rng, maxLen: o.maxLen, dictionary: o.dictionary, other: () => corpus.pick(rng) };
  const t0 = performance.now();
  let nextProgress = t0 + 1000;
  const stats = (): LoopStats => ({
    execs, reruns, takes, corpus: corpus.size, blocksStart, blocks: map.blocks, knownBlocks: map.knownBlocks,
    features: map.features, seconds: (performance.now() - t0) / 1000, findings: signatures.size,
  });

  for (let batchNo = 0; execs < o.execs && signatures.size < o.maxFindings; batchNo++) {
    const now = performance.now();
    if (now >= o.deadline) break;
    if (o.onProgress && now >= nextProgress) {
      o.onProgress(stats());
      nextProgress = now + 1000;
    }
    const preciseUpTo = o.guided && o.preciseEvery > 0 && batchNo % o.preciseEvery === 0 ? o.preciseCount : 0;
    const n = Math.min(o.batch, o.execs - execs);
    for (let k = 0; k < n; k++) {
      const precise = k < preciseUpTo;
      const input = mutate(corpus.pick(rng), ctx);
      execs++;
      const f = exec.run(input);
      if (!o.guided) {
        if (f) report(f);
        continue;
      }
      if (f) {
        // Not kept, but its blocks must count as seen, or every later batch that hits the same
        // crash would look new and be re-run input by input.
        report(f);
        if (precise) {
          map.merge(take());
          continue;
        }
        flush(); // the batch so far (its sum includes the crash: at worst one useless re-run)
        exec.run(input);
        map.merge(take());
        continue;
      }
      if (precise) keepIfNew(input, take());
      else pending.push(input);
    }
    if (pending.length > 0) flush();
  }
  return stats();
}
