// One gateway worker of `portcullis serve` with `workers` > 1: the full request path (listeners,
// identity, policy, pinned upstreams) with a replica of the primary's revocations and lockouts.
// The primary serves the admin endpoint and watches the files; a worker only does what it is told.
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { closeConnectionIn, viewOf } from '../admin/control.js';
import type { GatewayConfig } from '../config/schema.js';
import { RemoteAttempts, ReplicaUserStates } from '../policy/replica-user-states.js';
import { type Runtime, startRuntime } from './runtime.js';
import { workerSpoolName } from '../audit/audit-trail.js';
import { setAuditInstance } from '../audit/audit-record.js';
import os from 'node:os';
import { WORKER_SLOT_ENV } from './worker-messages.js';
import { RemoteDevices } from '../devices/remote-devices.js';
import { withdrawDevices } from '../devices/withdraw-devices.js';
import { type CloseQuestion, type ToPrimary, type WorkerQuestions, isToWorker } from './worker-messages.js';

function send(m: ToPrimary): void {
  process.send?.(m);
}

export async function serveWorker(file: string, config: GatewayConfig, baseLog: Logger): Promise<Runtime> {
  const id = cluster.worker?.id ?? 0;
  const log = baseLog.child({ worker: id });
  const users = new ReplicaUserStates(config.lockout);
  // The primary may keep a reservation waiting for a free slot (attemptWait): allow for that.
  const attempts = new RemoteAttempts((req) => send({ t: 'attempt', req }), () => users.lockoutConfig().attemptWait + 2_000);
  const devices = new RemoteDevices((r) => send({ t: 'device-admit', ...r }));
  let snapshot!: () => void;
  const gotSnapshot = new Promise<void>((r) => (snapshot = r));
  let runtime: Runtime | undefined;
  const answer = async (q: keyof WorkerQuestions, rt: Runtime, close: CloseQuestion | undefined): Promise<WorkerQuestions[typeof q]> => {
    switch (q) {
      case 'connections':
        return [...rt.gateway.connections].map((c) => viewOf(c, id));
      case 'stats':
        return { ...rt.gateway.stats(), worker: id };
      case 'reevaluate':
        return rt.access.reevaluate(rt.gateway.connections);
      case 'reload':
        return rt.reload();
      case 'metrics':
        return rt.metrics ? rt.metrics.registry.getMetricsAsJSON() : null;
      case 'close':
        // Connection ids are per process: only the worker the view named may act on one.
        return close !== undefined && close.worker === id && closeConnectionIn(rt.gateway.connections, close.id, close.actor);
    }
  };
  // Installed before anything else: IPC messages that arrive without a listener are lost.
  process.on('message', (m: unknown) => {
    if (!isToWorker(m)) return;
    if (m.t === 'attempt') return attempts.answered(m.id, m.answer);
    if (m.t === 'device-admitted') return devices.answered(m.id, m.record, m.failed === true);
    if (m.t === 'device') {
      devices.registry.apply(m.change);
      // A blocked or removed device's live connections in this worker close now (its held Ping).
      const closed = runtime ? withdrawDevices(runtime.gateway.connections, runtime.state().config.devices.mode, devices.registry, m.change) : 0;
      if (m.id !== undefined) send({ t: 'reply', id: m.id, value: closed });
      return;
    }
    if (m.t === 'update') {
      users.apply(m.update);
      if (m.update.kind === 'snapshot') snapshot();
      return;
    }
    const rt = runtime;
    if (!rt) return send({ t: 'reply', id: m.id, value: null });
    answer(m.q, rt, m.close).then(
      (value) => send({ t: 'reply', id: m.id, value }),
      (e: Error) => {
        log.error({ err: e.message, question: m.q }, 'worker could not answer the primary');
        send({ t: 'reply', id: m.id, value: null });
      },
    );
  });
  send({ t: 'hello' });
  // Serve nothing before the revocations and locks are known.
  await gotSnapshot;
  // Each worker writes its own records (SQLite in WAL mode and PostgreSQL take several writers);
  // its spool belongs to its slot, so the worker that replaces it replays what it left.
  const slot = Number(process.env[WORKER_SLOT_ENV] ?? id);
  setAuditInstance(`${os.hostname()}/w${slot}`);
  runtime = await startRuntime(file, config, log, { watch: false, users: { users, attempts }, admin: false, recordReloads: false, auditSpool: workerSpoolName(slot), devices });
  send({ t: 'listening', listeners: runtime.gateway.listeners });
  // Without its primary a worker would hold connections nobody can revoke: stop.
  // (through the signal handler, so a stop already under way is not started twice)
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  return runtime;
}
