// Circuit breaker for one domain controller. A failed connect, bind or operation already cost up
// to `timeout`; letting every waiting lookup try again would turn one outage into a connection
// storm. So the first failure opens the breaker: requests skip this DC (the next one serves, or
// they fail fast and the cache's grace period answers), and after a cooldown one background probe
// decides. Each failed probe doubles the cooldown up to a maximum. Pure: the clock is injected.

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  readonly cooldownMs: number;
  readonly maxCooldownMs: number;
}

export class Breaker {
  private current: BreakerState = 'closed';
  private openedAt = 0;
  private cooldown: number;
  /** Times the breaker went from closed to open (stats). */
  opens = 0;

  constructor(
    private readonly opts: BreakerOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.cooldown = opts.cooldownMs;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Whether ordinary requests may use the DC: only while closed (a probe is not an ordinary request). */
  get allowsRequests(): boolean {
    return this.current === 'closed';
  }

  /** Milliseconds until a probe is due (0 when due now or not open). */
  get retryInMs(): number {
    return this.current === 'open' ? Math.max(0, this.openedAt + this.cooldown - this.now()) : 0;
  }

  /** Claims the single probe: true once the cooldown is over, false otherwise (or while one runs). */
  startProbe(): boolean {
    if (this.current !== 'open' || this.retryInMs > 0) return false;
    this.current = 'half-open';
    return true;
  }

  success(): void {
    this.current = 'closed';
    this.cooldown = this.opts.cooldownMs;
  }

  failure(): void {
    if (this.current === 'closed') {
      this.opens++;
      this.cooldown = this.opts.cooldownMs;
    } else if (this.current === 'half-open') {
      this.cooldown = Math.min(this.cooldown * 2, this.opts.maxCooldownMs);
    } else {
      // Late failures of operations started before the breaker opened do not extend the pause.
      return;
    }
    this.current = 'open';
    this.openedAt = this.now();
  }
}
