// What a fuzz target is, and the oracle helpers targets use. A target runs the parser on raw bytes
// and checks cheap invariants; any exception escaping run() is a finding. Parsers in this project
// report bad input as result values, so even a thrown TypeError/RangeError from them is a bug.
import { isDeepStrictEqual } from 'node:util';

export interface FuzzTarget {
  readonly name: string;
  /** File URLs of the code under test; only their blocks guide the fuzzer. */
  readonly sources: readonly string[];
  /** Format tokens for the dictionary mutator; strings are latin1. */
  readonly dictionary?: ReadonlyArray<string | readonly number[]>;
  /** Longest input generated (libFuzzer's -max_len); default 4096. */
  readonly maxLen?: number;
  /** Must be deterministic in its input: coverage and findings have to reproduce. */
  run(input: Buffer): void;
}

/** An oracle failed: the parser returned, but what it returned is wrong. */
export class InvariantError extends Error {
  /** The invariant's fixed wording, without input-dependent detail: the de-duplication key. */
  readonly what: string;

  constructor(what: string, detail?: string) {
    super(detail === undefined ? what : `${what}: ${detail}`);
    this.name = 'InvariantError';
    this.what = what;
  }
}

/**
 * Fails the execution when `cond` is false. `what` must not contain input-dependent text: it is
 * the de-duplication key of the finding; put variable facts in `detail`.
 */
export function invariant(cond: unknown, what: string, detail?: () => unknown): asserts cond {
  if (!cond) throw new InvariantError(what, detail ? describe(detail()) : undefined);
}

export function sameValue(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new InvariantError(what, `got ${describe(actual)}, expected ${describe(expected)}`);
  }
}

function describe(v: unknown): string {
  const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' && x.length > 120 ? `${x.slice(0, 120)}…` : x));
  return s === undefined ? String(v) : s.length > 600 ? `${s.slice(0, 600)}…` : s;
}

/** A repository file as the URL V8 reports for it (targets pass their import.meta.url). */
export function sourceUrl(relative: string, base: string): string {
  return new URL(relative, base).href;
}

export function dictionaryBytes(target: FuzzTarget): Buffer[] {
  return (target.dictionary ?? []).map((w) => (typeof w === 'string' ? Buffer.from(w, 'latin1') : Buffer.from(w)));
}
