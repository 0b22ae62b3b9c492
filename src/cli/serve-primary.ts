// `portcullis serve` with `workers` > 1: this process forks the gateway workers (they share the
// listeners through node:cluster), owns the revocations and smart-lockout counts for all of them,
// serves the admin endpoint, watches the files and replaces a worker that dies. Why processes:
// a Node process runs JavaScript on one core, and the gateway's work per request (TLS on both
// legs, parsing, policy) is CPU-bound (docs/benchmarks.md).
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import type { Logger } from 'pino';
import { type AdminServer, startAdmin } from '../admin/admin-server.js';
import { ensureAdminToken } from '../admin/admin-token.js';
import { type Control, type ConnectionView, recordUserState } from '../admin/control.js';
import type { GatewayConfig } from '../config/schema.js';
import { AccessControl, type AccessState } from '../policy/access-gate.js';
import { AttemptBroker, type UserStateUpdate, snapshotOf } from '../policy/replica-user-states.js';
import { AttemptLimiter } from '../policy/login-attempts.js';
import { UserStateStore } from '../policy/user-states.js';
import { RELOAD_THREAD_TIMEOUT_MS } from './reload-thread.js';
import { buildState, loadNextState, recordReloaded } from './runtime.js';
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
import { type ToWorker, WORKER_SLOT_ENV, type WorkerQuestions, isToPrimary } from './worker-messages.js';
import { CliError } from './cli-error.js';
import { adoptWorkerSpools, auditReadiness, startAuditTrail } from '../audit/audit-trail.js';
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

export async function servePrimary(file: string, config: GatewayConfig, log: Logger): Promise<Primary> {
  // The admin token once, here, before any worker is forked (workers serve no admin endpoint).
  const adminToken = config.admin ? ensureAdminToken(config.admin.tokenFile) : undefined;
  const first = await buildState(config, log);
  if (!first.ok) throw new CliError(`${first.problems.join('\n')}\n${first.problems.length} problem(s); not starting`);
  let state: AccessState<GatewayConfig> = first.state;
  const users = new UserStateStore(config.lockout);
  // Revocations, unlocks and reloads happen here: their log lines are this subscriber's, and their
  // audit records this process' own trail's (the workers record their connections).
  const unsubscribeLog = subscribeLog(log);
  adoptWorkerSpools(config.audit, workerCount(config));
  const audit = await startAuditTrail(config.audit, log);
  const stopRecorder = audit ? subscribeAuditRecorder(audit.writer, () => state.config.audit.level) : undefined;
  // The primary counts what happens here (revocations, lockouts, reloads); workers count the traffic.
  const metrics = config.admin?.metrics ? startMetrics() : undefined;
  const readiness = new Readiness();
  // Every worker reserves its login attempt slots here, so the limit holds across workers.
  const limiter = new AttemptLimiter(users, (key, until) => {
    log.warn({ user: key, reasons: ['locked-out'] }, 'smart lockout: external logins of this user are blocked');
    broadcast({ kind: 'lock', key, until });
  });
  const broker = new AttemptBroker(limiter);
  // Used for `policy explain` and user lookups; never as a gate (the workers hold the sockets).
  const access = new AccessControl(() => state, users, limiter, log);
  const count = workerCount(config);
  let stopping = false;
  let nextAsk = 1;
  const waiting = new Map<number, (v: unknown) => void>();
  let listening = 0;

  const live = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
  const post = (w: Worker, m: ToWorker) => {
    if (w.isConnected()) w.send(m);
  };
  const broadcast = (update: UserStateUpdate) => live().forEach((w) => post(w, { t: 'update', update }));
  /** Asks every worker; a worker that dies or hangs counts as no answer (null). */
  const askAll = <Q extends keyof WorkerQuestions>(q: Q, timeoutMs = ASK_TIMEOUT_MS): Promise<Array<WorkerQuestions[Q] | null>> =>
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
            post(w, { t: 'ask', id, q });
          }),
      ),
    );

  const fork = (slot: number) => {
    const w = cluster.fork({ [WORKER_SLOT_ENV]: String(slot) });
    const started = Date.now();
    w.on('message', (m: unknown) => {
      if (!isToPrimary(m)) return;
      switch (m.t) {
        case 'hello':
          post(w, { t: 'update', update: snapshotOf(users) });
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
            for (const o of live()) o.process.kill('SIGKILL');
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
  cluster.setupPrimary({ execArgv: gatewayExecArgv(process.execArgv) });
  for (let i = 0; i < count; i++) fork(i);
  log.info({ workers: count }, 'gateway workers starting');

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
    users.setLockoutConfig(next.config.lockout);
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
      const revocation = users.revoke(key, reason, forMs);
      broadcast({ kind: 'revoke', revocation });
      const closed = (await askAll('reevaluate')).reduce<number>((a, b) => a + (b ?? 0), 0);
      recordUserState.revoked(revocation, actor, closed);
      return { revocation, closed };
    },
    async unrevoke(key, actor) {
      const removed = users.unrevoke(key);
      broadcast({ kind: 'unrevoke', key });
      recordUserState.unrevoked(key, actor, removed);
      return removed;
    },
    async unlock(key, actor) {
      users.unlock(key);
      broadcast({ kind: 'unlock', key });
      recordUserState.unlocked(key, actor);
    },
    reload: () => reload('admin'),
    users,
    lookup: (claim) => state.directory.lookup(claim),
    evaluate: (r, protocol, ctx) => access.evaluate({ kind: 'user', entry: r.entry }, protocol, ctx),
  };
  // The config, a file directory and the certificates: a renewal reaches every worker.
  const watcher = watchConfigFiles(file, () => state.config, () => void reload('watch'));
  const admin = config.admin ? await startAdmin(config.admin, { control, log, token: adminToken }) : undefined;
  const health: HealthServer | undefined = config.health ? await startHealthServer(config.health, readiness, log) : undefined;
  process.on('SIGHUP', () => void reload('signal'));

  return {
    admin,
    readiness,
    async stop() {
      stopping = true;
      readiness.startDraining();
      metrics?.setDraining(true);
      watcher.close();
      const exits = live().map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
      for (const w of live()) w.process.kill('SIGTERM');
      // Workers drain first (http.drainTimeout); one that hangs beyond that is killed.
      const kill = setTimeout(() => live().forEach((w) => w.process.kill('SIGKILL')), state.config.http.drainTimeout + 5_000);
      await Promise.all(exits);
      clearTimeout(kill);
      await health?.stop();
      await admin?.stop();
      await state.directory.close();
      metrics?.close();
      unsubscribeLog();
      stopRecorder?.();
      await audit?.stop();
    },
  };
}
