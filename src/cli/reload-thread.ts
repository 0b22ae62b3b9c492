// Runs prepareReload() in a worker thread. Reading, parsing and validating a 50,000-user directory
// takes about 0.3 s on the fast path, and seconds when the `yaml` library must read all of it (a
// file outside the fast parser's subset, or with a syntax error); on the event loop that serves
// connections every request waited for it (issue #18: 7.4 s). The thread lives for one reload:
// its heap, with all the parsing garbage, goes with it, and only the packed directory's buffers
// come back (moved, not copied).
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { parseDocument } from 'yaml';
import { parsePlainYaml } from '../yaml/yaml-source.js';
import { type Prepared, prepareReload } from './reload-prepare.js';

/** A reload that takes longer than this is abandoned (the running state stays). */
export const RELOAD_THREAD_TIMEOUT_MS = 120_000;

/**
 * Config and directory files this small are read on the event loop: a few milliseconds even for
 * the `yaml` library, where starting a thread costs about 0.4 s (tsx loads the modules again) and
 * 40 MiB while it lives. A change to a small demo file then applies as fast as before.
 */
export const IN_LOOP_BYTES = 32 * 1024;

/** Whether the config and the directory file it names fit in IN_LOOP_BYTES together. */
export function readsLittle(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return true; // prepareReload reports it at once
  }
  if (text.length > IN_LOOP_BYTES) return false;
  let d: { provider?: unknown; file?: unknown } | undefined;
  try {
    d = ((parsePlainYaml(text)?.value ?? parseDocument(text).toJS()) as { directory?: typeof d } | null)?.directory;
  } catch {
    return true; // a broken config is refused before any directory is read
  }
  if (d?.provider !== 'file' || typeof d.file !== 'string') return true;
  try {
    return text.length + statSync(path.resolve(path.dirname(path.resolve(file)), d.file)).size <= IN_LOOP_BYTES;
  } catch {
    return true;
  }
}

// The thread first lowers its priority below the threads that serve connections when the cores
// are busy (Linux: a thread id is a pid for setpriority; threads it starts inherit the value, e.g.
// tsx's module hooks). Then, when the gateway runs from source, it registers tsx (bin/portcullis.js
// registers it in the main thread; a worker thread does not inherit it) and loads its entry.
const BOOT = `const { workerData } = require('node:worker_threads');
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(tid, 10);
} catch {}
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((e) => { process.nextTick(() => { throw e; }); });`;

function entry(): { entry: string; tsx: string | undefined } {
  const ext = path.extname(fileURLToPath(import.meta.url));
  return { entry: new URL(`./reload-worker${ext}`, import.meta.url).href, tsx: ext === '.ts' ? import.meta.resolve('tsx/esm/api') : undefined };
}

/**
 * prepareReload(file) in a worker thread; in this thread when the files are small (readsLittle)
 * or no thread can be started.
 */
export function prepareOffLoop(file: string, log: Logger, timeoutMs = RELOAD_THREAD_TIMEOUT_MS): Promise<Prepared> {
  if (readsLittle(file)) return Promise.resolve(prepareReload(file));
  return new Promise((resolve) => {
    let settled = false;
    let worker: Worker;
    const done = (r: Prepared) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker?.terminate();
      resolve(r);
    };
    const inThisThread = (why: string) => {
      if (settled) return;
      log.warn({ err: why }, 'reload thread unavailable: reading the files on the event loop');
      done(prepareReload(file));
    };
    const timer = setTimeout(() => done({ ok: false, stage: 'config', problems: [`${file}: reload did not finish within ${timeoutMs} ms`] }), timeoutMs);
    // Neither holds the process open: a gateway that stops abandons the reload.
    timer.unref();
    try {
      worker = new Worker(BOOT, { eval: true, workerData: { file, ...entry() } });
      worker.unref();
    } catch (e) {
      return inThisThread((e as Error).message);
    }
    worker.once('message', (m: Prepared) => done(m.ok ? { ...m, config: Object.freeze(m.config) } : m));
    worker.once('error', (e) => inThisThread(e.message));
    worker.once('exit', (code) => inThisThread(`reload thread exited (${code}) without an answer`));
  });
}
