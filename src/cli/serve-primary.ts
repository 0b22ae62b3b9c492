// `portcullis serve` with `workers` > 1: this process forks the gateway workers (they share the
// listeners through node:cluster), owns the revocations and smart-lockout counts for all of them,
// serves the admin endpoint, watches the files and replaces a worker that dies. Why processes:
// a Node process runs JavaScript on one core, and the gateway's work per request (TLS on both
// legs, parsing, policy) is CPU-bound (docs/benchmarks.md).
import os from 'node:os';
import type { Logger } from 'pino';
import { type AdminServer, startAdmin } from '../admin/admin-server.js';
import { ensureAdminToken } from '../admin/admin-token.js';
import { type Control, type ConnectionView, recordUserState } from '../admin/control.js';
import type { GatewayConfig } from '../config/schema.js';
import { AccessControl, type AccessState } from '../policy/access-gate.js';
import { type UserStateUpdate, snapshotOf } from '../policy/replica-user-states.js';
import { openAuthority, registerStateReadiness } from '../state/open-state.js';
import { StateStoreError } from '../state/state-store.js';
import type { RemoteChange } from '../state/user-state-authority.js';
import { type WorkerPool, startWorkerPool } from './worker-pool.js';
import { RELOAD_THREAD_TIMEOUT_MS } from './reload-thread.js';
import { buildState, consoleSources, loadNextState, recordReloaded, stateStoreProblem } from './runtime.js';
import { type ReloadTrigger, events } from '../events.js';
import { subscribeLog } from '../audit/log-subscriber.js';
import { Readiness } from '../health/readiness.js';
import { directoryCheck, upstreamCheck } from '../health/gateway-checks.js';
import { type HealthServer, startHealthServer } from '../health/health-server.js';
import { METRICS_CONTENT_TYPE, aggregateMetrics, startMetrics } from '../metrics/gateway-metrics.js';
import type { MetricsJson } from './worker-messages.js';
import { watchConfigFiles } from './watch-files.js';
import { certificateProblem } from '../listen/tls-listener.js';
import { restartNeeded } from './restart-needed.js';
import { withGatewayFlags } from '../../bin/runtime.js';
import { CliError } from './cli-error.js';
import { adoptWorkerSpools, auditReadiness, startAuditTrail } from '../audit/audit-trail.js';
import { openDeviceAuthority } from '../devices/open-devices.js';
import { DeviceStoreError } from '../state/device-store.js';
import { subscribeAuditRecorder } from '../audit/audit-recorder.js';

export function workerCount(config: GatewayConfig): number {
  return config.workers === 'auto' ? os.availableParallelism() : config.workers;
}

// The gateway V8 flags live in bin/runtime.js (plain JS: bin/portcullis.js needs them before tsx loads).
export { GATEWAY_V8_FLAGS } from '../../bin/runtime.js';

export function gatewayExecArgv(execArgv: readonly string[]): string[] {
  return withGatewayFlags(execArgv);
}

export interface Primary {
  readonly admin: AdminServer | undefined;
  /** /readyz's checks: other parts (the audit store) register theirs here. */
  readonly readiness: Readiness;
  stop(): Promise<void>;
}

const ASK_TIMEOUT_MS = 10_000;

/** A change another instance made, as the workers' replicas take it. */
function updateOf(c: RemoteChange): UserStateUpdate {
  return c.kind === 'snapshot' ? { kind: 'snapshot', revocations: c.snapshot.revocations, locks: c.snapshot.locks } : c;
}

export async function servePrimary(file: string, config: GatewayConfig, log: Logger): Promise<Primary> {
  // The admin token once, here, before any worker is forked (workers serve no admin endpoint).
  const adminToken = config.admin ? ensureAdminToken(config.admin.tokenFile) : undefined;
  const first = await buildState(config, log);
  if (!first.ok) throw new CliError(`${first.problems.join('\n')}\n${first.problems.length} problem(s); not starting`);
  let state: AccessState<GatewayConfig> = first.state;
  // This process is the instance's authority over revocations and lockouts (the state store);
  // every worker keeps a replica, reserves its attempt slots here, and hears every change.
  let pool: WorkerPool | undefined;
  const authority = await openAuthority(config.state, config.lockout, log, {
    onLock: (key, until) => pool?.broadcast({ kind: 'lock', key, until }),
    onRemote: (c) => {
      pool?.broadcast(updateOf(c));
      void pool?.askAll('reevaluate');
    },
  }).catch((e: unknown) => {
    if (e instanceof StateStoreError) throw new CliError(stateStoreProblem(e));
    throw e;
  });
  const users = authority.users;
  // And over ActiveSync devices: workers keep a replica, record unknown devices here, hear every change.
  const devices = await openDeviceAuthority(config.state, log, { onChange: (c) => pool?.deviceChange(c) ?? 0 }).catch(async (e: unknown) => {
    await authority.close();
    if (e instanceof DeviceStoreError) throw new CliError(`${e.message}; not starting: without the device store blocked devices would be let in again (start the database, or set state.store)`);
    throw e;
  });
  // Revocations, unlocks and reloads happen here: their log lines are this subscriber's, and their
  // audit records this process' own trail's (the workers record their connections).
  const unsubscribeLog = subscribeLog(log);
  adoptWorkerSpools(config.audit, workerCount(config));
  const audit = await startAuditTrail(config.audit, log);
  const stopRecorder = audit ? subscribeAuditRecorder(audit.writer, () => state.config.audit.level) : undefined;
  // The primary counts what happens here (revocations, lockouts, reloads); workers count the traffic.
  const metrics = config.admin?.metrics ? startMetrics() : undefined;
  const readiness = new Readiness();
  registerStateReadiness(readiness, authority);
  // Used for `policy explain` and user lookups; never as a gate (the workers hold the sockets).
  const access = new AccessControl(() => state, users, authority, log);
  const count = workerCount(config);
  const workers = startWorkerPool({ count, log, attempts: authority, snapshot: () => snapshotOf(users), devices: { snapshot: () => devices.list(), admitNew: (u, d, r) => devices.admitNew(u, d, r) } });
  pool = workers;
  const { live, askAll } = workers;
  const broadcast = workers.broadcast;

  let reloading: Promise<boolean> = Promise.resolve(true);
  const reloadOnce = async (trigger: ReloadTrigger): Promise<boolean> => {
    const t0 = performance.now();
    const next = await loadNextState(file, log, trigger, state);
    if (!next) return false;
    // Certificates are checked here once, so a half-written renewal is refused before any worker
    // is asked (each worker still builds its own contexts and may refuse on its own).
    const unusable = certificateProblem(next.config);
    if (unusable) {
      log.error({ err: unusable }, 'new listener settings rejected; the running configuration stays');
      if (events.reloadRefused.hasSubscribers) events.reloadRefused.publish({ at: Date.now(), trigger, stage: 'config', problems: [unusable] });
      if (next.directory !== state.directory) void next.directory.close();
      return false;
    }
    // Against the configuration started with: these settings never change while running.
    for (const warning of restartNeeded(config, next.config)) log.warn(warning);
    const old = state;
    state = next;
    authority.setLockoutConfig(next.config.lockout);
    if (old.directory !== state.directory) void old.directory.close();
    // Each worker reads the files again in its reload thread: a big directory the fast reader
    // leaves to the yaml library takes seconds there, which is no reason to call it lost.
    const answers = await askAll('reload', RELOAD_THREAD_TIMEOUT_MS + ASK_TIMEOUT_MS);
    const ok = answers.every((a) => a === true);
    watcher.refresh();
    if (ok) log.info({ workers: answers.length }, 'configuration reloaded');
    else log.error({ answers }, 'a worker kept its previous configuration');
    // Live connections are re-checked in each worker; they report closes on their own record.
    if (ok) recordReloaded(trigger, t0, 0);
    return ok;
  };
  const reload = (trigger: ReloadTrigger) => (reloading = reloading.then(() => reloadOnce(trigger), () => reloadOnce(trigger)));

  readiness.register('upstream', upstreamCheck(() => state.config.upstream));
  readiness.register('directory', directoryCheck(() => state.directory));
  if (audit) readiness.register('audit', () => auditReadiness(audit));
  readiness.register('workers', () => {
    const n = live().length;
    return n > 0 ? { ok: true, ...(n < count ? { cause: `${n} of ${count} workers running` } : {}) } : { ok: false, cause: 'no gateway worker is running' };
  });

  const control: Control = {
    readiness,
    metrics: metrics
      ? async () => {
          const parts = (await askAll('metrics')).filter((m): m is MetricsJson => m !== null);
          return { contentType: METRICS_CONTENT_TYPE, text: await aggregateMetrics([await metrics.registry.getMetricsAsJSON(), ...parts]) };
        }
      : undefined,
    connections: async () => (await askAll('connections')).flatMap((v): ConnectionView[] => v ?? []),
    stats: async () => (await askAll('stats')).flatMap((v) => (v ? [v] : [])),
    async revoke(key, reason, forMs, actor) {
      const revocation = await authority.revoke(key, reason, forMs);
      broadcast({ kind: 'revoke', revocation });
      const closed = (await askAll('reevaluate')).reduce<number>((a, b) => a + (b ?? 0), 0);
      recordUserState.revoked(revocation, actor, closed);
      return { revocation, closed };
    },
    async unrevoke(key, actor) {
      const removed = await authority.unrevoke(key);
      broadcast({ kind: 'unrevoke', key });
      recordUserState.unrevoked(key, actor, removed);
      return removed;
    },
    async unlock(key, actor) {
      await authority.unlock(key);
      broadcast({ kind: 'unlock', key });
      recordUserState.unlocked(key, actor);
    },
    reload: () => reload('admin'),
    // The connections view names each connection's worker; only that one acts on the id.
    closeConnection: async (id, worker, actor) => worker !== undefined && (await askAll('close', ASK_TIMEOUT_MS, { id, worker, actor })).some((closed) => closed === true),
    devices: { list: async () => devices.list(), set: (u, i, t, s, a) => devices.set(u, i, t, s, a), remove: (u, i, a) => devices.remove(u, i, a) },
    users,
    lookup: (claim) => state.directory.lookup(claim),
    evaluate: (r, protocol, ctx) => access.evaluate({ kind: 'user', entry: r.entry }, protocol, ctx),
  };
  // The config, a file directory and the certificates: a renewal reaches every worker.
  const watcher = watchConfigFiles(file, () => state.config, () => void reload('watch'));
  const admin = config.admin ? await startAdmin(config.admin, { control, log, token: adminToken, console: consoleSources(file, () => state, audit) }) : undefined;
  const health: HealthServer | undefined = config.health ? await startHealthServer(config.health, readiness, log) : undefined;
  process.on('SIGHUP', () => void reload('signal'));

  return {
    admin,
    readiness,
    async stop() {
      readiness.startDraining();
      metrics?.setDraining(true);
      watcher.close();
      await workers.stop(state.config.http.drainTimeout + 5_000);
      await health?.stop();
      await admin?.stop();
      await state.directory.close();
      await authority.close();
      await devices.close();
      metrics?.close();
      unsubscribeLog();
      stopRecorder?.();
      await audit?.stop();
    },
  };
}
