/**
 * Log lines for events that can come by the thousand (refused sockets under attack): the first
 * event of a kind is logged at once, later ones are counted and summarised in one line per
 * interval while they keep coming. A quiet interval ends the window; the next event logs at once.
 */
export type ThrottledEmit = (count: number, sources: readonly string[], first: boolean) => void;

interface Window {
  count: number;
  readonly sources: Set<string>;
  emit: ThrottledEmit;
  timer: NodeJS.Timeout;
}

/** Distinct sources named in one summary line. */
const MAX_SOURCES = 5;

export class ThrottledLog {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly intervalMs: number) {}

  hit(key: string, source: string, emit: ThrottledEmit): void {
    const w = this.windows.get(key);
    if (!w) {
      emit(1, [source], true);
      this.windows.set(key, { count: 0, sources: new Set(), emit, timer: this.arm(key) });
      return;
    }
    w.count++;
    w.emit = emit;
    if (w.sources.size < MAX_SOURCES) w.sources.add(source);
  }

  /** Logs what is still counted and stops every timer. */
  close(): void {
    for (const [key, w] of this.windows) {
      clearTimeout(w.timer);
      if (w.count > 0) w.emit(w.count, [...w.sources], false);
      this.windows.delete(key);
    }
  }

  private arm(key: string): NodeJS.Timeout {
    return setTimeout(() => this.flush(key), this.intervalMs).unref();
  }

  private flush(key: string): void {
    const w = this.windows.get(key);
    if (!w) return;
    if (w.count === 0) {
      this.windows.delete(key);
      return;
    }
    w.emit(w.count, [...w.sources], false);
    w.count = 0;
    w.sources.clear();
    w.timer = this.arm(key);
  }
}
