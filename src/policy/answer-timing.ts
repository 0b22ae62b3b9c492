// A concealed refusal is Exchange's own answer to an anonymous request. A wrong password costs
// Exchange a domain controller round trip that an anonymous request does not, so without help a
// concealed refusal would come back measurably faster than a real wrong password. This learns
// both latencies per protocol and says how long to hold a concealed request back.
//
// Each latency is a low percentile of the most recent samples, not a running mean: an outside
// attack sent one burst of parallel wrong passwords, whose answers were slow only because they
// queued, and a mean kept that for as long as no new wrong password came, so every concealed
// refusal was then held back far longer than a real wrong password took (a timing oracle). A
// burst moves a low percentile only once it is most of the window.

const WINDOW = 64;
const PERCENTILE = 0.25;
const MAX_DELAY_MS = 2_000;

/** The last WINDOW samples of one latency (a ring). */
class Samples {
  private readonly values: number[] = [];
  private next = 0;

  add(ms: number): void {
    if (this.values.length < WINDOW) this.values.push(ms);
    else this.values[this.next] = ms;
    this.next = (this.next + 1) % WINDOW;
  }

  /** The PERCENTILE of the samples, or undefined before the first. */
  low(): number | undefined {
    if (this.values.length === 0) return undefined;
    const sorted = [...this.values].sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) * PERCENTILE)];
  }
}

interface Latencies {
  readonly credentialed: Samples;
  readonly anonymous: Samples;
}

export class AnswerTiming {
  private readonly byProtocol = new Map<string, Latencies>();

  private of(protocol: string): Latencies {
    let a = this.byProtocol.get(protocol);
    if (!a) this.byProtocol.set(protocol, (a = { credentialed: new Samples(), anonymous: new Samples() }));
    return a;
  }

  /** A 401 Exchange gave to a request that carried a password (a wrong password). */
  credentialedRefusal(protocol: string, ms: number): void {
    this.of(protocol).credentialed.add(ms);
  }

  /** A 401 Exchange gave to a request without credentials (a handshake's first leg, or concealed). */
  anonymousRefusal(protocol: string, ms: number): void {
    this.of(protocol).anonymous.add(ms);
  }

  /**
   * How long after forwarding a password Exchange has surely refused it if it was wrong: twice
   * its learned refusal time plus a margin (1 s before anything is learned). A connection cut
   * sooner may have run away from a 401; one cut later was not refused (an RPC channel it accepted).
   */
  refusalWindow(protocol: string): number {
    const c = this.byProtocol.get(protocol)?.credentialed.low();
    return c === undefined ? 1_000 : Math.min(MAX_DELAY_MS, 2 * c + 250);
  }

  /** How long to hold a concealed request back so its answer takes as long as a wrong password's. */
  delayFor(protocol: string): number {
    const a = this.byProtocol.get(protocol);
    const c = a?.credentialed.low();
    const n = a?.anonymous.low();
    if (c === undefined || n === undefined) return 0;
    return Math.min(MAX_DELAY_MS, Math.max(0, Math.round(c - n)));
  }
}
