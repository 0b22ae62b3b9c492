// Turns V8 coverage samples into libFuzzer-like features: (block, hit-count bucket) pairs.
//
// V8 does not report every block every time: a nested range whose count equals its parent's is
// merged away. So "block B ran" cannot be read off one sample. We keep every range ever reported
// for a function as a canonical block, and give it the count of the innermost range of the current
// sample that contains it (the function range, if B was merged away; none, if the function did
// not run). That count is exact for merged ranges and stays valid when samples are summed.
import type { ScriptSample } from './coverage.js';

interface Block {
  readonly start: number;
  readonly end: number;
  readonly id: number;
}

interface FunctionBlocks {
  readonly byRange: Map<number, number>; // start * 2^24 + end → block id (offsets < 16M)
  readonly list: Block[];
}

/** libFuzzer's hit-count buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
export function bucket(n: number): number {
  if (n <= 3) return n - 1;
  if (n < 8) return 3;
  if (n < 16) return 4;
  if (n < 32) return 5;
  return n < 128 ? 6 : 7;
}

export class FeatureMap {
  private readonly functions = new Map<string, FunctionBlocks>();
  /** Per block id: bitmask of the buckets seen so far (0 = never ran). */
  private readonly seen: number[] = [];
  private coveredBlocks = 0;
  private featureCount = 0;

  /** Blocks that ran at least once. */
  get blocks(): number {
    return this.coveredBlocks;
  }

  /** Blocks V8 has reported at all (run or not). */
  get knownBlocks(): number {
    return this.seen.length;
  }

  /** (block, bucket) pairs seen. */
  get features(): number {
    return this.featureCount;
  }

  /** Features of one sample, encoded as blockId * 8 + bucket. */
  extract(sample: readonly ScriptSample[]): number[] {
    const out: number[] = [];
    for (const script of sample) {
      for (const fn of script.functions) {
        const ranges = fn.ranges;
        const whole = ranges[0];
        if (!whole) continue;
        const blocks = this.blocksOf(`${script.scriptId}:${whole.startOffset}:${whole.endOffset}`);
        for (const r of ranges) this.register(blocks, r.startOffset, r.endOffset);
        for (const b of blocks.list) {
          let count = 0;
          let width = Infinity;
          for (const r of ranges) {
            if (r.startOffset <= b.start && b.end <= r.endOffset && r.endOffset - r.startOffset < width) {
              width = r.endOffset - r.startOffset;
              count = r.count;
            }
          }
          if (count > 0) out.push(b.id * 8 + bucket(count));
        }
      }
    }
    return out;
  }

  /** A block that never ran before. Valid for summed (batched) samples, unlike buckets. */
  hasNewBlock(features: readonly number[]): boolean {
    for (const f of features) if (this.seen[f >> 3] === 0) return true;
    return false;
  }

  hasNewFeature(features: readonly number[]): boolean {
    for (const f of features) if ((this.seen[f >> 3]! & (1 << (f & 7))) === 0) return true;
    return false;
  }

  /** Records the features; returns how many were new. */
  merge(features: readonly number[]): number {
    let added = 0;
    for (const f of features) {
      const id = f >> 3;
      const bit = 1 << (f & 7);
      const old = this.seen[id]!;
      if ((old & bit) !== 0) continue;
      if (old === 0) this.coveredBlocks++;
      this.seen[id] = old | bit;
      added++;
    }
    this.featureCount += added;
    return added;
  }

  private blocksOf(key: string): FunctionBlocks {
    let fb = this.functions.get(key);
    if (!fb) {
      fb = { byRange: new Map(), list: [] };
      this.functions.set(key, fb);
    }
    return fb;
  }

  private register(fb: FunctionBlocks, start: number, end: number): void {
    const k = start * 16777216 + end;
    if (fb.byRange.has(k)) return;
    const id = this.seen.length;
    this.seen.push(0);
    fb.byRange.set(k, id);
    fb.list.push({ start, end, id });
  }
}
