// The corpus: inputs that each reached something new. Seeds come from files so they can be
// reviewed and extended by hand (fuzz/corpus/<target>/); what the loop adds stays in memory.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Rng } from './rng.js';

export interface CorpusEntry {
  readonly input: Buffer;
  /** Execution number that found it (0 for seeds). */
  readonly foundAt: number;
}

export class Corpus {
  readonly entries: CorpusEntry[] = [];

  get size(): number {
    return this.entries.length;
  }

  add(input: Buffer, foundAt: number): void {
    this.entries.push({ input, foundAt });
  }

  /**
   * Half of the picks go to the newest entries (a quarter to the very newest): the latest find is
   * often one step from the next, which is why AFL's and libFuzzer's schedules favour fresh ones.
   */
  pick(rng: Rng): Buffer {
    const n = this.entries.length;
    if (n === 0) return Buffer.alloc(0);
    const r = rng.next();
    const i = r < 0.25 ? n - 1 : r < 0.5 ? n - 1 - rng.below(Math.min(n, 8)) : rng.below(n);
    return this.entries[i]!.input;
  }
}

/** Seed files of a directory, by name order (so runs reproduce); no directory = no seeds. */
export function loadSeeds(dir: string): Buffer[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith('.') && statSync(path.join(dir, n)).isFile())
    .map((n) => readFileSync(path.join(dir, n)));
}
