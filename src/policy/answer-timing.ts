// A concealed refusal is Exchange's own answer to an anonymous request. A wrong password costs
// Exchange a domain controller round trip that an anonymous request does not, so without help a
// concealed refusal would come back measurably faster than a real wrong password. This learns
// both latencies per protocol and says how long to hold a concealed request back.

const WEIGHT = 0.1;
const MAX_DELAY_MS = 2_000;

interface Averages {
  credentialed: number | undefined;
  anonymous: number | undefined;
}

export class AnswerTiming {
  private readonly byProtocol = new Map<string, Averages>();

  private of(protocol: string): Averages {
    let a = this.byProtocol.get(protocol);
    if (!a) this.byProtocol.set(protocol, (a = { credentialed: undefined, anonymous: undefined }));
    return a;
  }

  /** A 401 Exchange gave to a request that carried a password (a wrong password). */
  credentialedRefusal(protocol: string, ms: number): void {
    const a = this.of(protocol);
    a.credentialed = a.credentialed === undefined ? ms : a.credentialed + WEIGHT * (ms - a.credentialed);
  }

  /** A 401 Exchange gave to a request without credentials (a handshake's first leg, or concealed). */
  anonymousRefusal(protocol: string, ms: number): void {
    const a = this.of(protocol);
    a.anonymous = a.anonymous === undefined ? ms : a.anonymous + WEIGHT * (ms - a.anonymous);
  }

  /**
   * How long after forwarding a password Exchange has surely refused it if it was wrong: twice
   * its learned refusal time plus a margin (1 s before anything is learned). A connection cut
   * sooner may have run away from a 401; one cut later was not refused (an RPC channel it accepted).
   */
  refusalWindow(protocol: string): number {
    const c = this.byProtocol.get(protocol)?.credentialed;
    return c === undefined ? 1_000 : Math.min(MAX_DELAY_MS, 2 * c + 250);
  }

  /** How long to hold a concealed request back so its answer takes as long as a wrong password's. */
  delayFor(protocol: string): number {
    const a = this.byProtocol.get(protocol);
    if (!a || a.credentialed === undefined || a.anonymous === undefined) return 0;
    return Math.min(MAX_DELAY_MS, Math.max(0, Math.round(a.credentialed - a.anonymous)));
  }
}
