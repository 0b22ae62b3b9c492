// The local spool: records the store could not take, as JSON lines, replayed in order when it is
// back. Two files keep the order while the store is replayed into: `spool` receives new records,
// `spool.replaying` is the older part being written to the store (renamed from `spool` when a replay
// starts, so records spooled during the replay are never cleared with it).
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { AuditRecord } from './audit-record.js';

export const SPOOL_FILE = 'audit-spool.jsonl';

export class AuditSpool {
  readonly file: string;
  readonly #replaying: string;
  /** Records in both files (counted, not read back). */
  #count = 0;
  /** Lines that were not a record (a write cut by a crash), skipped during replay. */
  skipped = 0;

  constructor(file: string) {
    this.file = file;
    this.#replaying = `${file}.replaying`;
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    for (const f of [this.#replaying, file]) {
      if (!existsSync(f)) continue;
      try {
        const b = readFileSync(f);
        // A write cut by a crash: end its torn line, or the next record would be glued to it.
        if (b.length > 0 && b[b.length - 1] !== 10) writeFileSync(f, '\n', { flag: 'a' });
        this.#count += countLines(b);
      } catch {
        // Unreadable (not a file, no permission): appends fail the same way, and the writer
        // reports those records as lost.
      }
    }
  }

  get size(): number {
    return this.#count;
  }

  /** Bytes in both files. */
  get bytes(): number {
    return sizeOf(this.file) + sizeOf(this.#replaying);
  }

  /** Whether anything waits to be replayed (left by a previous run, too). */
  get pending(): boolean {
    return this.#count > 0 || nonEmpty(this.file) || nonEmpty(this.#replaying);
  }

  /**
   * Appends records (synchronously: it is the failure path, and the order must hold against the
   * next append). A crash loses at most the write in progress, whose torn line replay skips.
   */
  append(records: readonly AuditRecord[]): void {
    if (records.length === 0) return;
    writeFileSync(this.file, records.map((r) => JSON.stringify(r)).join('\n') + '\n', { flag: 'a', mode: 0o600 });
    this.#count += records.length;
  }

  /** Puts records before everything spooled (a batch in flight that failed after newer ones were spooled). */
  prepend(records: readonly AuditRecord[]): void {
    if (records.length === 0) return;
    const head = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const target = nonEmpty(this.#replaying) ? this.#replaying : this.file;
    const rest = existsSync(target) ? readFileSync(target) : Buffer.alloc(0);
    writeFileSync(`${target}.tmp`, Buffer.concat([Buffer.from(head), rest]), { mode: 0o600 });
    renameSync(`${target}.tmp`, target);
    this.#count += records.length;
  }

  /**
   * Replays the older file, then what was spooled meanwhile, in batches through `write`; each file
   * is removed once all of it is written. Stops at the first failure (the rest stays for the next
   * try; batches already written are skipped then by their uid). Returns the records written.
   */
  async replay(batchSize: number, write: (batch: AuditRecord[]) => Promise<void>): Promise<number> {
    let written = 0;
    for (;;) {
      if (!nonEmpty(this.#replaying)) {
        if (!nonEmpty(this.file)) break;
        renameSync(this.file, this.#replaying);
      }
      const lines = createInterface({ input: createReadStream(this.#replaying), crlfDelay: Infinity });
      let batch: AuditRecord[] = [];
      for await (const line of lines) {
        if (line.length === 0) continue;
        try {
          batch.push(JSON.parse(line) as AuditRecord);
        } catch {
          this.skipped++;
        }
        if (batch.length >= batchSize) {
          await write(batch);
          written += batch.length;
          this.#count = Math.max(0, this.#count - batch.length);
          batch = [];
        }
      }
      if (batch.length) await write(batch);
      written += batch.length;
      this.#count = Math.max(0, this.#count - batch.length);
      rmSync(this.#replaying, { force: true });
    }
    this.#count = 0;
    return written;
  }
}

function sizeOf(f: string): number {
  try {
    const st = statSync(f);
    return st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

function nonEmpty(f: string): boolean {
  return sizeOf(f) > 0;
}

function countLines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
}
