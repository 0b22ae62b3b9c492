// V8 block coverage as the fuzzer's feedback. Precise coverage with callCount resets every counter
// on each take, so one take = the blocks run since the previous take. A take costs ~0.3-0.8 ms
// whatever ran (V8 walks every function of every loaded script), which is why the loop batches.
import { Session } from 'node:inspector';

export interface CoverageRange {
  readonly startOffset: number;
  readonly endOffset: number;
  readonly count: number;
}

export interface FunctionCoverage {
  readonly functionName: string;
  readonly ranges: readonly CoverageRange[];
}

export interface ScriptSample {
  readonly scriptId: string;
  readonly url: string;
  readonly functions: readonly FunctionCoverage[];
}

export interface CoverageProbe {
  /** Coverage since the previous take, restricted to the target's source files. */
  take(): ScriptSample[];
}

export interface CoverageSession {
  /** A probe that keeps only these file URLs (query strings ignored). */
  probe(sources: readonly string[]): CoverageProbe;
}

/**
 * Starts precise block coverage. Must run before the target's modules are imported: functions
 * compiled earlier have no block counters.
 */
export function startCoverage(): CoverageSession {
  const session = new Session();
  session.connect();
  // The in-thread inspector answers synchronously, so post() can be used as a plain call.
  const post = <T>(method: string, params?: object): T => {
    let result: T | undefined;
    let error: Error | null = null;
    session.post(method, params ?? {}, (err, res) => {
      error = err;
      result = res as T;
    });
    if (error) throw error;
    if (result === undefined) throw new Error(`inspector did not answer ${method} synchronously`);
    return result;
  };
  post('Profiler.enable');
  // Warm the session's own JS (post, message parsing) before coverage starts: code compiled
  // after the start gets block counters, and V8 walks every such function on every take.
  for (let i = 0; i < 3; i++) post('Profiler.getBestEffortCoverage');
  post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  return {
    probe: (sources) => {
      const wanted = new Set(sources.map((s) => s.split('?')[0]));
      const included = new Map<string, boolean>(); // scriptId → is a target source (decided once)
      return {
        take() {
          const { result } = post<{ result: ScriptSample[] }>('Profiler.takePreciseCoverage');
          const out: ScriptSample[] = [];
          for (const s of result) {
            let inc = included.get(s.scriptId);
            if (inc === undefined) {
              inc = wanted.has(s.url.split('?')[0]!);
              included.set(s.scriptId, inc);
            }
            if (inc) out.push(s);
          }
          return out;
        },
      };
    },
  };
}
