// Seeded PRNG (sfc32). Every random choice of a campaign comes from here, so `--seed` plus
// `--execs` reproduces a run input for input; Math.random would make findings unrepeatable.

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n); n must be >= 1. */
  below(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/** FNV-1a over a string: turns `--seed` and a target name into independent 32-bit seeds. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** FNV-1a over bytes: used by targets to derive split points from the input itself. */
export function hashBytes(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
  return h;
}

export function createRng(seed: string): Rng {
  let a = hash32(`a:${seed}`);
  let b = hash32(`b:${seed}`);
  let c = hash32(`c:${seed}`);
  let d = 1;
  const next32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next32(); // mix the seed in before the first real draw
  const rng: Rng = {
    next: () => next32() / 4294967296,
    below: (n) => Math.floor((next32() / 4294967296) * n),
    chance: (p) => next32() / 4294967296 < p,
    pick: (items) => items[rng.below(items.length)]!,
  };
  return rng;
}
