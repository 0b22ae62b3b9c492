// Split points derived from the input itself: a target that drew them from a PRNG would not be a
// function of its input, so neither coverage nor a saved finding would reproduce.
import { hashBytes } from '../../engine/rng.js';

/** `count` sorted offsets in [0, input.length], chosen by hashing the input. */
export function splitPoints(input: Uint8Array, count: number): number[] {
  let h = hashBytes(input);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    out.push(h % (input.length + 1));
  }
  return out.sort((a, b) => a - b);
}
