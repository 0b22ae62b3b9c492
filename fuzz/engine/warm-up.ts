// Runs the engine's own code paths once before coverage starts. V8 gives block counters only to
// functions compiled after the start, and every take walks all of them: compiling the mutators,
// the loop and the feature map first keeps a take near the cost of a bare Node process.
import type { ScriptSample } from './coverage.js';
import { createExecutor } from './execute.js';
import { fuzzLoop } from './loop.js';

const FAKE_SAMPLE: ScriptSample[] = [
  {
    scriptId: 'warm-up',
    url: 'warm-up',
    functions: [{ functionName: 'f', ranges: [{ startOffset: 0, endOffset: 10, count: 1 }, { startOffset: 2, endOffset: 4, count: 0 }] }],
  },
];

export function warmUp(): void {
  let n = 0;
  const target = {
    name: 'warm-up',
    sources: [],
    run(b: Buffer) {
      if (b.length > 3 && ++n % 97 === 0) throw new RangeError('warm-up');
    },
  };
  fuzzLoop([Buffer.from('warm-up\r\n')], createExecutor(target, 1e9), { take: () => FAKE_SAMPLE }, {
    execs: 3000, deadline: Infinity, seed: 'warm-up', batch: 16, preciseEvery: 4, preciseCount: 4, guided: true, maxFindings: 1000,
    maxLen: 64, dictionary: [Buffer.from('\r\n')], onFinding: () => {}, onProgress: () => {},
  });
}
