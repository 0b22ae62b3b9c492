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
import type { Control, ConnectionView } from '../admin/control.js';
import type { GatewayConfig } from '../config/schema.js';
import { AccessControl, type AccessState } from '../policy/access-gate.js';
import { AttemptBroker, type UserStateUpdate, snapshotOf } from '../policy/replica-user-states.js';
import { AttemptLimiter } from '../policy/login-attempts.js';
import { UserStateStore } from '../policy/user-states.js';
import { RELOAD_THREAD_TIMEOUT_MS } from './reload-thread.js';
import { buildState, loadNextState } from './runtime.js';
import { watchFiles } from './watch-files.js';
import { withGatewayFlags } from '../../bin/runtime.js';
import { type ToWorker, type WorkerQuestions, isToPrimary } from './worker-messages.js';
import { CliError } from './cli-error.js';

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
  stop(): Promise<void>;
}

const ASK_TIMEOUT_MS = 10_000;

export async function servePrimary(file: string, config: GatewayConfig, log: Logger): Promise<Primary> {
  // The admin token once, here, before any worker is forked (workers serve no admin endpoint).
  const adminToken = config.admin ? ensureAdminToken(config.admin.tokenFile) : undefined;
  const first = await buildState(config, log);
  if (!first.ok) throw new CliError(`${first.problems.join('\n')}\n${first.problems.length} problem(s); not starting`);
  let state: AccessState = first.state;
  const users = new UserStateStore(config.lockout);
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

  const fork = () => {
    const w = cluster.fork();
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
      setTimeout(() => !stopping && fork(), Date.now() - started < 5_000 ? 2_000 : 100).unref();
    });
  };
  cluster.setupPrimary({ execArgv: gatewayExecArgv(process.execArgv) });
  for (let i = 0; i < count; i++) fork();
  log.info({ workers: count }, 'gateway workers starting');

  let reloading: Promise<boolean> = Promise.resolve(true);
  const reloadOnce = async (): Promise<boolean> => {
    const next = await loadNextState(file, log, state);
    if (!next) return false;
    if (workerCount(next.config) !== count) log.warn({ running: count, configured: workerCount(next.config) }, 'a different number of workers needs a restart');
    const old = state;
    state = next;
    users.setLockoutConfig(next.config.lockout);
    if (old.directory !== state.directory) void old.directory.close();
    // Each worker reads the files again in its reload thread: a big directory the fast reader
    // leaves to the yaml library takes seconds there, which is no reason to call it lost.
    const answers = await askAll('reload', RELOAD_THREAD_TIMEOUT_MS + ASK_TIMEOUT_MS);
    const ok = answers.every((a) => a === true);
    if (ok) log.info({ workers: answers.length }, 'configuration reloaded');
    else log.error({ answers }, 'a worker kept its previous configuration');
    return ok;
  };
  const reload = () => (reloading = reloading.then(reloadOnce, reloadOnce));

  const control: Control = {
    connections: async () => (await askAll('connections')).flatMap((v): ConnectionView[] => v ?? []),
    stats: async () => (await askAll('stats')).flatMap((v) => (v ? [v] : [])),
    async revoke(key, reason, forMs) {
      const revocation = users.revoke(key, reason, forMs);
      broadcast({ kind: 'revoke', revocation });
      const closed = (await askAll('reevaluate')).reduce<number>((a, b) => a + (b ?? 0), 0);
      return { revocation, closed };
    },
    async unrevoke(key) {
      const removed = users.unrevoke(key);
      broadcast({ kind: 'unrevoke', key });
      return removed;
    },
    async unlock(key) {
      users.unlock(key);
      broadcast({ kind: 'unlock', key });
    },
    reload,
    users,
    lookup: (claim) => state.directory.lookup(claim),
    evaluate: (r, protocol, ctx) => access.evaluate({ kind: 'user', entry: r.entry }, protocol, ctx),
  };
  const admin = config.admin ? await startAdmin(config.admin, { control, log, token: adminToken }) : undefined;
  const watcher = watchFiles([file, ...(config.directory?.provider === 'file' ? [config.directory.file] : [])], () => void reload());
  process.on('SIGHUP', () => void reload());

  return {
    admin,
    async stop() {
      stopping = true;
      watcher.close();
      const exits = live().map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
      for (const w of live()) w.process.kill('SIGTERM');
      // Workers drain first (http.drainTimeout); one that hangs beyond that is killed.
      const kill = setTimeout(() => live().forEach((w) => w.process.kill('SIGKILL')), state.config.http.drainTimeout + 5_000);
      await Promise.all(exits);
      clearTimeout(kill);
      await admin?.stop();
      await state.directory.close();
    },
  };
}
