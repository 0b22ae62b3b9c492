// Between the data path and the store: record() only pushes onto a bounded queue; a timer commits
// the queue in one transaction per commit interval. When the store fails, batches go to the local
// spool and are replayed, in order, once it answers again. So a request never waits for the
// database, and the durability promise is: after a crash (kill -9) at most the records of the last
// commit interval are missing; during an outage none are (the spool holds them).
import type { Logger } from 'pino';
import { type AuditRecord, type RecordInput, makeRecord } from './audit-record.js';
import type { AuditSpool } from './audit-spool.js';
import type { AuditStore } from './audit-store.js';

export interface WriterOptions {
  readonly commitIntervalMs: number;
  /** Records held in memory; beyond it the queue goes to the spool file. */
  readonly maxQueue: number;
  /** Records per transaction. */
  readonly maxBatch?: number;
  /** 0: keep everything. */
  readonly retentionDays: number;
  /** How often an unavailable store is tried again. */
  readonly retryMs?: number;
  readonly pruneEveryMs?: number;
  readonly log?: Logger | undefined;
  /** Told after every batch: records written (0 when it failed) and the error. Metrics listen. */
  readonly onBatch?: ((written: number, error: string | undefined) => void) | undefined;
}

export interface AuditHealth {
  /** The store took the last batch, or the spool holds it: no record is being lost. */
  readonly writable: boolean;
  /** Records go to the local spool because the store is unavailable. */
  readonly spooling: boolean;
  readonly queued: number;
  readonly spooled: number;
  readonly committed: number;
  readonly writeErrors: number;
  /** Records that could be written neither to the store nor to the spool. */
  readonly lost: number;
  readonly lastError: string | undefined;
}

const DAY_MS = 86_400_000;

export class AuditWriter {
  readonly store: AuditStore;
  readonly #spool: AuditSpool;
  readonly #o: Required<Omit<WriterOptions, 'log' | 'onBatch'>> & Pick<WriterOptions, 'log' | 'onBatch'>;
  #queue: AuditRecord[] = [];
  #busy = false;
  #spooling = false;
  #migrated = false;
  /** Spool writes since the batch in flight was taken (it must then go before them). */
  #spooledDuringFlight = false;
  #nextRetry = 0;
  #committed = 0;
  #writeErrors = 0;
  #lost = 0;
  #spoolBroken = false;
  #lastError: string | undefined;
  readonly #timer: NodeJS.Timeout;
  readonly #pruneTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(store: AuditStore, spool: AuditSpool, o: WriterOptions) {
    this.store = store;
    this.#spool = spool;
    this.#o = { maxBatch: 2000, retryMs: 1000, pruneEveryMs: 3_600_000, ...o };
    // What a previous run left in the spool goes first.
    this.#spooling = spool.pending;
    this.#timer = setInterval(() => void this.#tick(), this.#o.commitIntervalMs).unref();
    this.#pruneTimer = this.#o.retentionDays > 0 ? setInterval(() => void this.prune(), this.#o.pruneEveryMs).unref() : undefined;
  }

  /** Migrates the store (or starts spooling if it is unavailable) and prunes once. */
  async start(): Promise<void> {
    try {
      await this.store.migrate();
      this.#migrated = true;
    } catch (e) {
      this.#fail(e, 'audit store unavailable at start: records are spooled until it answers');
      return;
    }
    await this.prune();
  }

  /** Queues one record. Never waits and never throws: the data path calls it. */
  record(input: RecordInput): void {
    if (this.#closed) return;
    this.#queue.push(makeRecord(input));
    if (this.#queue.length >= this.#o.maxQueue) this.#overflow();
  }

  health(): AuditHealth {
    return {
      writable: !this.#spoolBroken,
      spooling: this.#spooling,
      queued: this.#queue.length,
      spooled: this.#spool.size,
      committed: this.#committed,
      writeErrors: this.#writeErrors,
      lost: this.#lost,
      lastError: this.#lastError,
    };
  }

  /** Commits (or spools) everything queued now; with the store back, replays the spool too. */
  async flush(): Promise<void> {
    while (this.#busy) await new Promise((r) => setTimeout(r, 5));
    this.#nextRetry = 0;
    do await this.#tick();
    while (this.#queue.length > 0 && !this.#spooling);
  }

  async prune(): Promise<number> {
    if (this.#o.retentionDays <= 0 || !this.#migrated) return 0;
    try {
      const n = await this.store.prune(Date.now() - this.#o.retentionDays * DAY_MS);
      if (n > 0) this.#o.log?.info({ pruned: n, retentionDays: this.#o.retentionDays }, 'audit records pruned');
      return n;
    } catch (e) {
      this.#o.log?.warn({ err: (e as Error).message }, 'audit prune failed');
      return 0;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    await this.flush();
    this.#closed = true;
    await this.store.close();
  }

  async #tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      if (this.#spooling) {
        this.#toSpool(this.#queue.splice(0));
        if (Date.now() >= this.#nextRetry) await this.#replay();
      } else if (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#o.maxBatch);
        this.#spooledDuringFlight = false;
        try {
          await this.store.append(batch);
          this.#committed += batch.length;
          this.#o.onBatch?.(batch.length, undefined);
        } catch (e) {
          this.#o.onBatch?.(0, (e as Error).message);
          this.#fail(e, 'audit store write failed: records are spooled until it answers');
          // Records spooled by an overflow while this batch was in flight are newer: it goes first.
          if (this.#spooledDuringFlight) this.#prependSpool(batch);
          else this.#toSpool(batch);
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  async #replay(): Promise<void> {
    try {
      if (!this.#migrated) {
        await this.store.migrate();
        this.#migrated = true;
      }
      const n = await this.#spool.replay(this.#o.maxBatch, (b) => this.store.append(b));
      this.#committed += n;
      this.#spooling = false;
      this.#o.onBatch?.(n, undefined);
      this.#o.log?.info({ replayed: n, skipped: this.#spool.skipped }, 'audit store available again: spool replayed');
    } catch (e) {
      this.#writeErrors++;
      this.#lastError = (e as Error).message;
      this.#nextRetry = Date.now() + this.#o.retryMs;
      this.#o.onBatch?.(0, this.#lastError);
    }
  }

  #overflow(): void {
    // The store is slower than the records come: the queue goes to disk instead of growing, and
    // later records follow it there so the order holds.
    const spilled = this.#queue.splice(0);
    this.#spooledDuringFlight = true;
    this.#toSpool(spilled);
    if (!this.#spooling) {
      this.#spooling = true;
      this.#o.log?.warn({ records: spilled.length }, 'audit queue full: records are spooled and replayed in order');
    }
  }

  #toSpool(records: AuditRecord[]): void {
    if (records.length === 0) return;
    try {
      this.#spool.append(records);
      this.#spoolBroken = false;
    } catch (e) {
      this.#spoolBroken = true;
      this.#lost += records.length;
      this.#o.log?.error({ err: (e as Error).message, records: records.length, file: this.#spool.file }, 'audit spool write failed: records lost');
    }
  }

  #prependSpool(records: AuditRecord[]): void {
    try {
      this.#spool.prepend(records);
    } catch (e) {
      this.#spoolBroken = true;
      this.#lost += records.length;
      this.#o.log?.error({ err: (e as Error).message, records: records.length, file: this.#spool.file }, 'audit spool write failed: records lost');
    }
  }

  #fail(e: unknown, message: string): void {
    this.#writeErrors++;
    this.#lastError = (e as Error).message;
    this.#nextRetry = Date.now() + this.#o.retryMs;
    if (!this.#spooling) this.#o.log?.warn({ store: this.store.describe, err: this.#lastError }, message);
    this.#spooling = true;
  }
}
