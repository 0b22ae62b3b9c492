// Single flight: concurrent callers asking for the same key share one promise, so 100 requests
// of one user during a cold start cost the directory one query, not 100.

export class Coalescer<K, V> {
  private readonly inflight = new Map<K, Promise<V>>();
  /** Callers that joined a query already in flight (stats). */
  joined = 0;

  get size(): number {
    return this.inflight.size;
  }

  has(key: K): boolean {
    return this.inflight.has(key);
  }

  run(key: K, fn: () => Promise<V>): Promise<V> {
    const running = this.inflight.get(key);
    if (running) {
      this.joined++;
      return running;
    }
    const p = Promise.resolve()
      .then(fn)
      .finally(() => {
        if (this.inflight.get(key) === p) this.inflight.delete(key);
      });
    this.inflight.set(key, p);
    return p;
  }
}
