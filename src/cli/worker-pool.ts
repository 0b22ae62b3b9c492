// The gateway workers of `portcullis serve` with `workers` > 1, seen from the primary: forking
// (they share the listeners through node:cluster), the IPC (a snapshot of the user states for each
// new worker, attempt slots, questions with answers), replacing a worker that dies, and stopping.
// What the pool is for (state, reloads, the admin endpoint) stays in serve-primary.ts.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AttemptBroker, type UserStateUpdate } from '../policy/replica-user-states.js';
import type { LoginAttempts } from '../policy/login-attempts.js';
import { withGatewayFlags } from '../../bin/runtime.js';
import { type CloseQuestion, type ToWorker, WORKER_SLOT_ENV, type WorkerQuestions, isToPrimary } from './worker-messages.js';
import type { AdmitRule, DeviceChange, DeviceRecord } from '../state/device-store.js';
import type { DeviceRef } from '../vocabulary/device.js';

const ASK_TIMEOUT_MS = 10_000;

export interface WorkerPoolOptions {
  readonly count: number;
  readonly log: Logger;
  /** Where the workers' login attempt slots are reserved (the instance's authority). */
  readonly attempts: LoginAttempts;
  /** What a new worker must know before it serves: every revocation and lock. */
  readonly snapshot: () => UserStateUpdate;
  /** The instance's device authority: every device a new worker must know, and where unknown devices are recorded. */
  readonly devices: {
    snapshot(): DeviceRecord[];
    admitNew(user: string, device: DeviceRef, rule: AdmitRule): Promise<DeviceRecord | undefined>;
  };
}

export interface WorkerPool {
  /** Workers running now. */
  live(): Worker[];
  /** Tells every worker of a change in the user states. */
  broadcast(update: UserStateUpdate): void;
  /** Tells every worker of a device change; resolves with the connections they closed for it. */
  deviceChange(change: DeviceChange): Promise<number>;
  /** Asks every worker; a worker that dies or hangs counts as no answer (null). */
  askAll<Q extends keyof WorkerQuestions>(q: Q, timeoutMs?: number, close?: CloseQuestion): Promise<Array<WorkerQuestions[Q] | null>>;
  /** SIGTERM to every worker (they drain), SIGKILL after `killAfterMs`; resolves when all exited. */
  stop(killAfterMs: number): Promise<void>;
}

export function startWorkerPool(o: WorkerPoolOptions): WorkerPool {
  const { count, log } = o;
  const broker = new AttemptBroker(o.attempts);
  let stopping = false;
  let nextAsk = 1;
  let listening = 0;
  const waiting = new Map<number, (v: unknown) => void>();

  const live = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
  const post = (w: Worker, m: ToWorker) => {
    if (w.isConnected()) w.send(m);
  };
  const askAll = <Q extends keyof WorkerQuestions>(q: Q, timeoutMs = ASK_TIMEOUT_MS, close?: CloseQuestion): Promise<Array<WorkerQuestions[Q] | null>> =>
    Promise.all(
      live().map(
        (w) =>
          new Promise<WorkerQuestions[Q] | null>((resolve) => {
            const id = nextAsk++;
            const done = (v: unknown) => {
              clearTimeout(timer);
              w.off('exit', gone);
              waiting.delete(id);
              resolve(v as WorkerQuestions[Q] | null);
            };
            const gone = () => done(null);
            const timer = setTimeout(gone, timeoutMs);
            w.once('exit', gone);
            waiting.set(id, done);
            post(w, { t: 'ask', id, q, ...(close ? { close } : {}) });
          }),
      ),
    );
  const deviceChange = async (change: DeviceChange): Promise<number> => {
    const closed = await Promise.all(
      live().map(
        (w) =>
          new Promise<number>((resolve) => {
            const id = nextAsk++;
            const done = (v: unknown) => {
              clearTimeout(timer);
              w.off('exit', gone);
              waiting.delete(id);
              resolve(typeof v === 'number' ? v : 0);
            };
            const gone = () => done(0);
            const timer = setTimeout(gone, ASK_TIMEOUT_MS);
            w.once('exit', gone);
            waiting.set(id, done);
            post(w, { t: 'device', change, id });
          }),
      ),
    );
    return closed.reduce((a, b) => a + b, 0);
  };

  const fork = (slot: number) => {
    const w = cluster.fork({ [WORKER_SLOT_ENV]: String(slot) });
    const started = Date.now();
    w.on('message', (m: unknown) => {
      if (!isToPrimary(m)) return;
      switch (m.t) {
        case 'hello':
          // Devices first: the worker serves once the user states arrive, and IPC keeps the order.
          post(w, { t: 'device', change: { kind: 'resync', records: o.devices.snapshot() } });
          post(w, { t: 'update', update: o.snapshot() });
          return;
        case 'device-admit':
          o.devices.admitNew(m.user, m.device, m.rule).then(
            (record) => post(w, { t: 'device-admitted', id: m.id, record: record ?? null }),
            (e: Error) => {
              log.error({ err: e.message, user: m.user, device: m.device.id }, 'device store could not record a new device');
              post(w, { t: 'device-admitted', id: m.id, record: null, failed: true });
            },
          );
          return;
        case 'listening':
          if (++listening === count) log.info({ workers: count, listeners: m.listeners }, 'gateway ready');
          return;
        case 'attempt': {
          const r = m.req;
          if (r.t === 'settle') return broker.settle(w.id, r.id, r.outcome);
          void broker.reserve(w.id, r.id, r.key).then((answer) => post(w, { t: 'attempt', id: r.id, answer }));
          return;
        }
        case 'reply':
          waiting.get(m.id)?.(m.value);
          return;
        case 'failed':
          // Before the gateway was ever ready, a worker that cannot start means none can (a port
          // in use, a certificate it cannot read): say why once and stop, rather than fork again.
          if (listening < count) {
            stopping = true;
            console.error(m.message);
            for (const other of live()) other.process.kill('SIGKILL');
            process.exit(m.exitCode);
          }
          log.error({ worker: w.id, error: m.message }, 'gateway worker could not start');
          return;
      }
    });
    w.on('exit', (code, signal) => {
      broker.workerGone(w.id);
      if (stopping) return;
      log.error({ worker: w.id, code, signal }, 'gateway worker died; its connections are lost, starting a new one');
      // A worker that dies at once (broken environment) is retried slowly, not in a tight loop.
      setTimeout(() => !stopping && fork(slot), Date.now() - started < 5_000 ? 2_000 : 100).unref();
    });
  };
  cluster.setupPrimary({ execArgv: withGatewayFlags(process.execArgv) });
  for (let i = 0; i < count; i++) fork(i);
  log.info({ workers: count }, 'gateway workers starting');

  return {
    live,
    broadcast: (update) => live().forEach((w) => post(w, { t: 'update', update })),
    deviceChange,
    askAll,
    async stop(killAfterMs) {
      stopping = true;
      const exits = live().map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
      for (const w of live()) w.process.kill('SIGTERM');
      // Workers drain first (http.drainTimeout); one that hangs beyond that is killed.
      const kill = setTimeout(() => live().forEach((w) => w.process.kill('SIGKILL')), killAfterMs);
      await Promise.all(exits);
      clearTimeout(kill);
    },
  };
}
