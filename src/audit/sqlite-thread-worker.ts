// The SQLite store's thread (started by sqlite-thread.ts): runs each request in order and answers.
// Requests are handled one at a time, so a batch's transaction never interleaves with another call.
import { parentPort, workerData } from 'node:worker_threads';
import type { ThreadReply, ThreadRequest } from './sqlite-thread.js';
import { SqliteAuditStore } from './sqlite-store.js';

const port = parentPort!;
let store: SqliteAuditStore | undefined;
let queue = Promise.resolve();

port.on('message', (m: ThreadRequest) => {
  queue = queue.then(async () => {
    let reply: ThreadReply;
    try {
      store ??= new SqliteAuditStore((workerData as { file: string }).file);
      const fn = (store as unknown as Record<string, (...a: unknown[]) => unknown>)[m.op]!;
      reply = { id: m.id, ok: true, value: await fn.apply(store, m.args) };
      if (m.op === 'close') store = undefined;
    } catch (e) {
      reply = { id: m.id, ok: false, error: (e as Error).message };
    }
    port.postMessage(reply);
  });
});
