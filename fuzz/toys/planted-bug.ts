// Toy target for the engine test: a bug behind "FUZZ" and four more specific bytes, compared one
// byte at a time. Blind mutation must guess all eight bytes at once (about 2^-64 per try); a
// coverage-guided fuzzer gets a new block, hence a corpus entry, for each byte it gets right.
import type { FuzzTarget } from '../engine/target.js';

const target: FuzzTarget = {
  name: 'planted-bug',
  sources: [import.meta.url],
  maxLen: 8,
  run(b) {
    if (b.length < 8) return;
    if (b[0] === 0x46) {
      if (b[1] === 0x55) {
        if (b[2] === 0x5a) {
          if (b[3] === 0x5a) {
            if (b[4] === 0xc3) {
              if (b[5] === 0x9e) {
                if (b[6] === 0x71) {
                  if (b[7] === 0x0b) {
                    const table: number[] = [];
                    table.length = -1; // the planted bug: throws RangeError
                  }
                }
              }
            }
          }
        }
      }
    }
  },
};

export default target;
