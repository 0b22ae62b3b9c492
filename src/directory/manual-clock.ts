// A clock and timer list that move only when told: the directory's timing (deadlines, breaker
// cooldowns, refresh-ahead, pool maintenance) is tested with it instead of real waits.
import type { Schedule } from './wait-queue.js';

export class ManualClock {
  t = 0;
  private timers: Array<{ at: number; fn: () => void }> = [];

  readonly now = (): number => this.t;

  readonly schedule: Schedule = (fn, ms) => {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  };

  get pending(): number {
    return this.timers.length;
  }

  /** Moves time on, firing due timers in order (and timers they set that fall due too), then lets promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const next = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.at);
      next.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/** Lets pending promise callbacks run. */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
