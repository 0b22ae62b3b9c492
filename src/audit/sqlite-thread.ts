// The SQLite store on its own thread. node:sqlite is synchronous: on the event loop that serves
// connections, a commit of 1,000 records took 7-20 ms here, and a WAL checkpoint inside a commit
// writes and syncs the database file. In a worker thread neither delays a request; the event loop
// only posts the batch. A killed process loses the thread with it, so the durability promise is the
// same as in the event loop.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AuditRecord, StoredRecord } from './audit-record.js';
import type { AuditStore, QueryOptions } from './audit-store.js';
import type { AuditFilter } from './record-columns.js';

// Registers tsx when the gateway runs from source (a worker thread does not inherit the main
// thread's loader), then loads the entry.
const BOOT = `const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((e) => { process.nextTick(() => { throw e; }); });`;

export type ThreadOp = 'migrate' | 'schemaVersion' | 'append' | 'query' | 'prune' | 'exec' | 'close';
export type ThreadRequest = { readonly id: number; readonly op: ThreadOp; readonly args: unknown[] };
export type ThreadReply = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: string };

function entry(): { entry: string; tsx: string | undefined } {
  const ext = path.extname(fileURLToPath(import.meta.url));
  return { entry: new URL(`./sqlite-thread-worker${ext}`, import.meta.url).href, tsx: ext === '.ts' ? import.meta.resolve('tsx/esm/api') : undefined };
}

export class ThreadedSqliteStore implements AuditStore {
  readonly describe: string;
  readonly #file: string;
  #worker: Worker | undefined;
  #next = 0;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(file: string) {
    this.#file = file;
    this.describe = file;
  }

  migrate(target?: number): Promise<number> {
    return this.#call('migrate', [target]) as Promise<number>;
  }
  schemaVersion(): Promise<number> {
    return this.#call('schemaVersion', []) as Promise<number>;
  }
  async append(records: readonly AuditRecord[]): Promise<void> {
    await this.#call('append', [records]);
  }
  query(filter: AuditFilter, opts?: QueryOptions): Promise<StoredRecord[]> {
    return this.#call('query', [filter, opts]) as Promise<StoredRecord[]>;
  }
  prune(before: number): Promise<number> {
    return this.#call('prune', [before]) as Promise<number>;
  }
  async exec(sql: string): Promise<void> {
    await this.#call('exec', [sql]);
  }
  async close(): Promise<void> {
    if (!this.#worker) return;
    await this.#call('close', []).catch(() => {});
    await this.#worker?.terminate();
    this.#worker = undefined;
  }

  #call(op: ThreadOp, args: unknown[]): Promise<unknown> {
    const w = this.#thread();
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      w.postMessage({ id, op, args } satisfies ThreadRequest);
    });
  }

  /** The thread, started on first use and again after it died (the writer spools meanwhile). */
  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(BOOT, { eval: true, workerData: { file: this.#file, ...entry() } });
    // Never what keeps a gateway alive: the writer flushes and closes it on stop.
    w.unref();
    w.on('message', (m: ThreadReply) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
    });
    const fail = (why: string) => {
      if (this.#worker === w) this.#worker = undefined;
      for (const p of this.#pending.values()) p.reject(new Error(why));
      this.#pending.clear();
    };
    w.on('error', (e) => fail(`audit writer thread failed: ${e.message}`));
    w.on('exit', (code) => fail(`audit writer thread exited (${code})`));
    this.#worker = w;
    return w;
  }
}
