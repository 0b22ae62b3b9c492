// Command-line options of fuzz/run.ts. Hand-rolled (a dozen flags) so the fuzzer needs nothing
// beyond Node and tsx.

export interface RunArgs {
  readonly execs: number;
  readonly seconds: number;
  readonly targets: string[];
  readonly seed: string;
  readonly batch: number;
  readonly preciseEvery: number;
  readonly preciseCount: number;
  readonly slowMs: number;
  readonly hangMs: number;
  readonly maxFindings: number;
  readonly reproduce: string | undefined;
  readonly findingsDir: string;
  readonly corpusDir: string;
  readonly help: boolean;
}

export const DEFAULT_EXECS = 1_000_000;

export const USAGE = `usage: npm run fuzz -- [options]
  --execs N          new inputs per target (default ${DEFAULT_EXECS}: about 3 minutes for all six on 2 cores)
  --seconds S        stop each target after S seconds of fuzzing (runs then no longer reproduce exactly)
  --target NAME      only this target; repeat or comma-separate for several
  --seed S           PRNG seed (default 1); same seed + same --execs = same inputs and corpus
  --batch N          inputs per coverage take (default 256)
  --precise-every N  every N-th batch starts with --precise-count inputs measured one by one (default 8, 8)
  --precise-count N
  --slow-ms N        per-input budget; an input slower twice is a finding (default 250)
  --hang-ms N        no input finished for N ms: the worker is stopped, the input reported (default 5000)
  --max-findings N   distinct findings after which a target stops (default 10)
  --reproduce FILE   run one saved input through --target in this process and print the outcome
  --findings DIR     where crashing inputs go (default fuzz/findings)
  --corpus DIR       seed corpora, one folder per target (default fuzz/corpus)`;

export function parseArgs(argv: readonly string[], defaults: { findingsDir: string; corpusDir: string }): RunArgs {
  const a = {
    execs: DEFAULT_EXECS, seconds: Infinity, targets: [] as string[], seed: '1', batch: 256, preciseEvery: 8, preciseCount: 8,
    slowMs: 250, hangMs: 5000, maxFindings: 10, reproduce: undefined as string | undefined, ...defaults, help: false,
  };
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--execs': a.execs = Math.floor(num(flag, value())); break;
      case '--seconds': a.seconds = num(flag, value()); break;
      case '--target': a.targets.push(...value().split(',').filter(Boolean)); break;
      case '--seed': a.seed = value(); break;
      case '--batch': a.batch = Math.max(1, Math.floor(num(flag, value()))); break;
      case '--precise-every': a.preciseEvery = Math.floor(num(flag, value())); break;
      case '--precise-count': a.preciseCount = Math.floor(num(flag, value())); break;
      case '--slow-ms': a.slowMs = num(flag, value()); break;
      case '--hang-ms': a.hangMs = Math.max(100, num(flag, value())); break;
      case '--max-findings': a.maxFindings = Math.max(1, Math.floor(num(flag, value()))); break;
      case '--reproduce': a.reproduce = value(); break;
      case '--findings': a.findingsDir = value(); break;
      case '--corpus': a.corpusDir = value(); break;
      case '-h':
      case '--help': a.help = true; break;
      default: throw new Error(`unknown option ${flag}`);
    }
  }
  return a;
}
