// Toy target for the engine test: loops forever on inputs starting with "HANG", so the watchdog
// has to stop the worker and report that input.
import type { FuzzTarget } from '../engine/target.js';

const target: FuzzTarget = {
  name: 'hang',
  sources: [import.meta.url],
  maxLen: 16,
  run(b) {
    if (b.toString('latin1', 0, 4) !== 'HANG') return;
    for (let i = 0; i >= 0; i = (i + 1) % 1000) {
      // spins until terminated
    }
  },
};

export default target;
