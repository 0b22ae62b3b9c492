// A worker thread that accepts TOTP time steps on its own SQLite connection (another process's
// view of state.sqlite), for the race test in src/state/second-factor-stores.test.ts: it waits for
// the go signal, then tries every step and reports the ones it won.
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteSecondFactorStore } from '../../src/state/sqlite-second-factor-store.js';

const { file, steps, go } = workerData as { file: string; steps: number; go: SharedArrayBuffer };
const store = new SqliteSecondFactorStore(file);
await store.open();
const flag = new Int32Array(go);
parentPort!.postMessage('ready');
Atomics.wait(flag, 0, 0);
const won: number[] = [];
for (let s = 1; s <= steps; s++) if (await store.acceptTotpStep('LAB\\alice', s)) won.push(s);
await store.close();
parentPort!.postMessage(won);
