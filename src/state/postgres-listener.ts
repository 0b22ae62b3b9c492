// The LISTEN connection of a store shared through PostgreSQL (state, devices): one dedicated
// client that hears another instance's changes. A lost connection comes back on its own, with a
// growing pause (up to 5 s), and then the store reads everything again (`resync`), since NOTIFY
// keeps nothing for a listener that was away.
import pg from 'pg';

export interface ListenerOptions {
  readonly url: string;
  readonly password?: string | undefined;
  readonly timeoutMs?: number | undefined;
  /** The first pause before connecting again (doubles up to 5 s). */
  readonly reconnectMs?: number | undefined;
  readonly channel: string;
  /** A notification's payload. */
  heard(payload: string | undefined): void;
  /** After the connection came back: read it all again; false (could not) drops it to try again. */
  resync(): Promise<boolean>;
}

export class PostgresListener {
  readonly #o: ListenerOptions;
  #client: pg.Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(o: ListenerOptions) {
    this.#o = o;
  }

  /** The first connection: its failure is thrown (the store's open fails with it). */
  start(): Promise<void> {
    return this.#connect(false, this.#o.reconnectMs ?? 500);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const c = this.#client;
    this.#client = undefined;
    await c?.end().catch(() => {});
  }

  async #connect(lost: boolean, wait: number): Promise<void> {
    if (this.#closed) return;
    const o = this.#o;
    const c = new pg.Client({ connectionString: o.url, ...(o.password !== undefined ? { password: o.password } : {}), connectionTimeoutMillis: o.timeoutMs ?? 2000 });
    let gone = false;
    const retry = () => {
      if (gone || this.#closed) return;
      gone = true;
      if (this.#client === c) this.#client = undefined;
      void c.end().catch(() => {});
      this.#retry = setTimeout(() => void this.#connect(true, Math.min(wait * 2, 5000)), wait);
      this.#retry.unref();
    };
    c.on('error', retry);
    c.on('end', retry);
    c.on('notification', (n) => o.heard(n.payload));
    try {
      await c.connect();
      await c.query(`LISTEN ${o.channel}`);
    } catch (e) {
      if (!lost) {
        gone = true;
        void c.end().catch(() => {});
        throw e;
      }
      return retry();
    }
    this.#client = c;
    if (lost && !(await o.resync().catch(() => false))) retry();
  }
}
