// The Overview's memory: the gateway's own metrics (Control.metrics, what /metrics serves) read
// every few seconds and kept for the last minutes, reduced to what the charts show.
import type { Exposition } from '../control.js';
import { parseExposition, sumBy } from './prom-text.js';

export interface Sample {
  readonly at: number;
  /** Counters since the start. */
  readonly requests: number;
  readonly denials: Readonly<Record<string, number>>;
  readonly lockouts: number;
  /** Gauges now. */
  readonly connections: number;
  readonly pinnedByProtocol: Readonly<Record<string, number>>;
}

const P = 'portcullis_';

export function sampleOf(at: number, text: string): Sample {
  const s = parseExposition(text);
  return {
    at,
    requests: sumBy(s, `${P}requests_total`, '')[''] ?? 0,
    denials: sumBy(s, `${P}requests_total`, 'reason', (l) => l['decision'] === 'deny'),
    lockouts: sumBy(s, `${P}lockouts_total`, '')[''] ?? 0,
    connections: sumBy(s, `${P}client_connections`, '')[''] ?? 0,
    pinnedByProtocol: sumBy(s, `${P}pinned_pairs`, 'protocol'),
  };
}

/** Per-second rates between consecutive samples (counter resets read as 0). */
export function rates(samples: readonly Sample[], value: (s: Sample) => number): Array<{ at: number; v: number }> {
  const out: Array<{ at: number; v: number }> = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const dt = (b.at - a.at) / 1000;
    out.push({ at: b.at, v: dt > 0 ? Math.max(0, value(b) - value(a)) / dt : 0 });
  }
  return out;
}

/** How much each key of a counter map grew from the first to the last sample. */
export function increase(samples: readonly Sample[], map: (s: Sample) => Readonly<Record<string, number>>): Record<string, number> {
  if (samples.length < 1) return {};
  const first = map(samples[0]!);
  const last = map(samples.at(-1)!);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(last)) {
    const d = v - (first[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

export class MetricSampler {
  private readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly read: () => Promise<Exposition>,
    readonly intervalMs = 5_000,
    readonly keepMs = 15 * 60_000,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes a sample now (tests, and the first page view). */
  async tick(): Promise<void> {
    try {
      const { text } = await this.read();
      this.add(sampleOf(Date.now(), text));
      this.lastError = undefined;
    } catch (e) {
      this.lastError = (e as Error).message;
    }
  }

  add(s: Sample): void {
    this.samples.push(s);
    while (this.samples.length && s.at - this.samples[0]!.at > this.keepMs) this.samples.shift();
  }

  get all(): readonly Sample[] {
    return this.samples;
  }

  get error(): string | undefined {
    return this.lastError;
  }
}
