// The composition root: config -> directory -> policy -> gateway -> admin endpoint, plus hot
// reload. A reload builds the whole new state first and swaps it only if all of it is valid; big
// files are read, parsed and validated in a worker thread (reload-thread.ts), so the connections
// this event loop serves do not wait for them, and live connections are re-checked a batch at a
// time (AccessControl.reevaluate).
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import { buildDirectory, ldapDirectoryKey } from '../directory/build-provider.js';
import { loadPackedDirectory, packedProvider } from '../directory/file-provider.js';
import type { DirectoryProvider } from '../directory/provider.js';
import { bearerVerifier } from '../identity/bearer.js';
import { type Gateway, startGateway } from '../listen/gateway.js';
import { AccessControl, type AccessState } from '../policy/access-gate.js';
import { compilePolicy } from '../policy/evaluate.js';
import { edgeGate } from '../policy/edge-gate.js';
import { autodiscoverGate } from '../autodiscover/autodiscover-gate.js';
import type { UserStateStore } from '../policy/user-states.js';
import type { LoginAttempts } from '../policy/login-attempts.js';
import { openAuthority, registerStateReadiness } from '../state/open-state.js';
import type { UserStateAuthority } from '../state/user-state-authority.js';
import { StateStoreError } from '../state/state-store.js';
import { type AdminServer, startAdmin } from '../admin/admin-server.js';
import { ensureAdminToken } from '../admin/admin-token.js';
import { localControl, memoryChanger } from '../admin/control.js';
import type { ConsoleSources } from '../admin/console/console-sources.js';
import { prepareOffLoop } from './reload-thread.js';
import { watchConfigFiles } from './watch-files.js';
import { restartNeeded } from './restart-needed.js';
import { CliError } from './cli-error.js';
import { type AuditTrail, auditReadiness, startAuditTrail } from '../audit/audit-trail.js';
import { subscribeAuditRecorder } from '../audit/audit-recorder.js';
import { type ReloadTrigger, events } from '../events.js';
import { subscribeLog } from '../audit/log-subscriber.js';
import { Readiness } from '../health/readiness.js';
import { directoryCheck, upstreamCheck } from '../health/gateway-checks.js';
import { type HealthServer, startHealthServer } from '../health/health-server.js';
import { type GatewayMetrics, METRICS_CONTENT_TYPE, startMetrics } from '../metrics/gateway-metrics.js';
import { type Signin, startSignin } from '../signin/start-signin.js';
import { openSecondFactorService } from '../signin/open-second-factor.js';
import { type DeviceAdmissions, DeviceGate } from '../devices/device-gate.js';
import { activeSyncCredentialProbe } from '../devices/credential-probe.js';
import type { DeviceAuthority } from '../devices/device-authority.js';
import { openDeviceAuthority } from '../devices/open-devices.js';
import { withdrawDevices } from '../devices/withdraw-devices.js';
import { DeviceStoreError } from '../state/device-store.js';

export interface Runtime {
  readonly gateway: Gateway;
  readonly access: AccessControl;
  /** The instance's authority over revocations and lockouts (undefined in a worker: its primary's). */
  readonly authority: UserStateAuthority | undefined;
  /** What the device gate reads: the instance's DeviceAuthority, or a worker's replica of its primary's. */
  readonly devices: DeviceAdmissions;
  readonly admin: AdminServer | undefined;
  /** The audit trail this process writes (undefined: audit.store off). */
  readonly audit: AuditTrail | undefined;
  /** /readyz's checks: other parts (the audit store) register theirs here. */
  readonly readiness: Readiness;
  /** This process' metrics (undefined with admin.metrics off or no admin section). */
  readonly metrics: GatewayMetrics | undefined;
  /** The dedicated probe listener (`health:`), if configured. */
  readonly health: HealthServer | undefined;
  state(): AccessState<GatewayConfig>;
  /** Re-reads the config and directory; false (and the old state kept) when anything is invalid. */
  reload(trigger?: ReloadTrigger): Promise<boolean>;
  /** `drain`: SIGTERM's graceful stop (http.drainTimeout); tests stop at once. */
  stop(o?: { drain?: boolean }): Promise<void>;
}

/** The ldapDirectoryKey each LDAP provider was built with (files are read at build time). */
const ldapBuiltWith = new WeakMap<DirectoryProvider, string>();

/**
 * The state for a config; `directory`, when given, is the one already built for it (a reload's).
 * A file directory is read straight into its packed form; buildDirectory() reads it the full way
 * only when that fails, to report every problem with its position (or pack a file the fast parser
 * leaves to the yaml library).
 */
export async function buildState(config: GatewayConfig, log: Logger, directory?: DirectoryProvider): Promise<{ ok: true; state: AccessState<GatewayConfig> } | { ok: false; problems: string[] }> {
  const packed = !directory && config.directory?.provider === 'file' ? loadPackedDirectory(config.directory.file) : undefined;
  const given = directory ?? (packed ? packedProvider(packed) : undefined);
  const dir = given ? { ok: true as const, provider: given } : buildDirectory(config, log);
  if (!dir.ok) return { ok: false, problems: dir.problems };
  const key = ldapDirectoryKey(config);
  if (key && !given) ldapBuiltWith.set(dir.provider, key);
  const b = config.identity?.bearer;
  const bearer = b ? bearerVerifier(b) : undefined;
  if (bearer && !bearer.ok) return { ok: false, problems: [bearer.problem] };
  return {
    ok: true,
    state: { config, policy: compilePolicy(config.policy), directory: dir.provider, bearer: bearer?.verifier },
  };
}

/**
 * Reads the config file and builds its state; undefined (every problem logged) when invalid. The
 * reading, parsing and validating, and packing a file directory, happen in a worker thread unless
 * the files are small. An LDAP directory whose settings and files did not change is taken over
 * from `current` (ldapDirectoryKey), with its cache and pool.
 */
export async function loadNextState(file: string, log: Logger, trigger?: ReloadTrigger, current?: AccessState<GatewayConfig>): Promise<AccessState<GatewayConfig> | undefined> {
  const refused = (stage: 'config' | 'directory', problems: readonly string[]) => {
    for (const p of problems) log.error(p);
    log.error({ problems: problems.length }, stage === 'config' ? 'new configuration rejected; the running one stays' : 'new directory rejected; the running one stays');
    if (trigger && events.reloadRefused.hasSubscribers) events.reloadRefused.publish({ at: Date.now(), trigger, stage, problems });
    return undefined;
  };
  const r = await prepareOffLoop(file, log);
  if (!r.ok) return refused(r.stage === 'config' ? 'config' : 'directory', r.problems);
  const built = current && ldapBuiltWith.get(current.directory);
  const keep = built !== undefined && built === ldapDirectoryKey(r.config) ? current!.directory : undefined;
  if (keep) log.info('LDAP directory settings unchanged: its cache and connections are kept');
  const next = await buildState(r.config, log, r.directory ? packedProvider(r.directory) : keep);
  if (!next.ok) return refused('directory', next.problems);
  return next.state;
}

/** Puts a reload that took effect on the record. */
export function recordReloaded(trigger: ReloadTrigger, startedAt: number, connectionsClosed: number): void {
  if (events.configReloaded.hasSubscribers) events.configReloaded.publish({ at: Date.now(), trigger, durationMs: performance.now() - startedAt, connectionsClosed });
}

export interface RuntimeOptions {
  /** Watch the config and directory files and reload on change (`portcullis serve`). */
  readonly watch?: boolean;
  /**
   * Revocations and lockouts, and where login attempt slots are reserved: a worker passes its
   * replica of the primary's and the primary's slots over IPC; otherwise this process is the
   * instance's authority over the `state:` store.
   */
  readonly users?: { readonly users: UserStateStore; readonly attempts: LoginAttempts };
  /** Start the admin endpoint from the config (false in workers: the primary serves it). */
  readonly admin?: boolean;
  /** The audit spool file's name in audit.dataDir (a worker has its slot's own). */
  readonly auditSpool?: string;
  /** Put reloads on the record (false in workers: the primary records the pool's reload once). */
  readonly recordReloads?: boolean;
  /** ActiveSync devices: a worker passes its replica of the primary's; otherwise this process opens the device store. */
  readonly devices?: DeviceAdmissions;
}

export async function startRuntime(file: string, config: GatewayConfig, log: Logger, opts: RuntimeOptions = {}): Promise<Runtime> {
  // The admin token first: a token file that cannot hold one stops the start before anything listens.
  const adminToken = config.admin && opts.admin !== false ? ensureAdminToken(config.admin.tokenFile) : undefined;
  const first = await buildState(config, log);
  if (!first.ok) throw new CliError(`${first.problems.join('\n')}\n${first.problems.length} problem(s); not starting`);
  let state = first.state;
  let onRemoteChange: ((why: string) => Promise<number>) | undefined;
  const authority = opts.users
    ? undefined
    : await openAuthority(config.state, config.lockout, log, { onRemote: () => void onRemoteChange?.('state changed on another gateway instance') }).catch((e: unknown) => {
        if (e instanceof StateStoreError) throw new CliError(stateStoreProblem(e));
        throw e;
      });
  let withdraw: ((c: Parameters<typeof withdrawDevices>[3]) => number) | undefined;
  const deviceAuthority: DeviceAuthority | undefined = opts.devices
    ? undefined
    : await openDeviceAuthority(config.state, log, { onChange: (c) => withdraw?.(c) ?? 0 }).catch(async (e: unknown) => {
        await authority?.close();
        if (e instanceof DeviceStoreError) throw new CliError(`${e.message}; not starting: without the device store blocked devices would be let in again (start the database, or set state.store)`);
        throw e;
      });
  const devices: DeviceAdmissions = opts.devices ?? deviceAuthority!;
  // The trail subscribes before anything listens, so the first connection is on the record.
  const audit = await startAuditTrail(config.audit, log, opts.auditSpool);
  const stopRecorder = audit ? subscribeAuditRecorder(audit.writer, () => state.config.audit.level) : undefined;
  // The request log lines are a subscriber of the events seam; composition wires it, the core never does.
  const unsubscribeLog = subscribeLog(log);
  const records = opts.recordReloads !== false;
  // Metrics subscribe before the listeners open: every connection is counted from its start.
  const metrics = config.admin?.metrics ? startMetrics({ liveBytes: () => liveBytes(gateway) }) : undefined;
  const readiness = new Readiness();
  readiness.register('upstream', upstreamCheck(() => state.config.upstream));
  readiness.register('directory', directoryCheck(() => state.directory));
  if (audit) readiness.register('audit', () => auditReadiness(audit));
  if (authority) registerStateReadiness(readiness, authority);
  const users = opts.users?.users ?? authority!.users;
  const access = new AccessControl(() => state, users, opts.users?.attempts ?? authority!, log);
  // The second factor browser sign-in asks for where a policy rule says so (signin.secondFactor).
  const sfConfig = config.signin?.secondFactor;
  const secondFactor = sfConfig
    ? await openSecondFactorService(config.state, sfConfig, log).catch((e: unknown) => {
        void authority?.close();
        throw new CliError(`browser sign-in's second factor: ${(e as Error).message}; not starting`);
      })
    : undefined;
  const signin: Signin | undefined = config.signin
    ? await startSignin({ first: config.signin, config: () => state.config, state: config.state, access, attempts: opts.users?.attempts ?? authority!, secondFactor, users, log }).catch((e: unknown) => {
        void authority?.close();
        void secondFactor?.close();
        throw new CliError(`browser sign-in: ${(e as Error).message}; not starting`);
      })
    : undefined;
  const deviceGate = new DeviceGate(() => state.config.devices, devices, activeSyncCredentialProbe(() => state.config.upstream));
  const gates = signin
    ? signin.gates(edgeGate(() => state), [deviceGate, autodiscoverGate(() => state, access)])
    : [edgeGate(() => state), access, deviceGate, autodiscoverGate(() => state, access)];
  const gateway = await startGateway({ config, log, gates }).catch((e: unknown) => {
    // Nothing listens: the subscribers go with the failed start.
    void signin?.stop();
    void secondFactor?.close();
    metrics?.close();
    unsubscribeLog();
    stopRecorder?.();
    void audit?.stop();
    void authority?.close();
    void deviceAuthority?.close();
    throw e;
  });
  withdraw = (c) => withdrawDevices(gateway.connections, state.config.devices.mode, devices.registry, c);
  const reevaluate = async (why: string) => {
    const closed = await access.reevaluate(gateway.connections);
    log.info({ why, closed }, 're-evaluated live connections');
    return closed;
  };
  onRemoteChange = reevaluate;
  state.directory.onChange?.(() => void reevaluate('directory changed'));
  let reloading: Promise<boolean> | undefined;
  let watcher: ReturnType<typeof watchConfigFiles> | undefined;
  const reload = async (trigger: ReloadTrigger): Promise<boolean> => {
    const t0 = performance.now();
    const next = await loadNextState(file, log, records ? trigger : undefined, state);
    if (!next) return false;
    // Listeners and certificates first: what cannot be loaded or opened keeps the old state whole.
    let notes: string[];
    try {
      notes = await gateway.reload(next.config);
    } catch (e) {
      const problem = (e as Error).message;
      log.error({ err: problem }, 'new listener settings rejected; the running configuration stays');
      if (records && events.reloadRefused.hasSubscribers) events.reloadRefused.publish({ at: Date.now(), trigger, stage: 'config', problems: [problem] });
      if (next.directory !== state.directory) void next.directory.close();
      return false;
    }
    for (const note of notes) log.info(note);
    // Against the configuration started with: these settings never change while running.
    for (const warning of restartNeeded(config, next.config)) log.warn(warning);
    const old = state;
    state = next;
    if (old.directory !== state.directory) {
      state.directory.onChange?.(() => void reevaluate('directory changed'));
      void old.directory.close();
    }
    users.setLockoutConfig(next.config.lockout);
    watcher?.refresh();
    log.info('configuration reloaded');
    // The device mode may have changed (any -> quarantine): live devices are judged under the new one.
    const devicesClosed = withdrawDevices(gateway.connections, next.config.devices.mode, devices.registry, 'all');
    const closed = (await reevaluate('reload')) + devicesClosed;
    if (records) recordReloaded(trigger, t0, closed);
    return true;
  };
  const serialReload = (trigger: ReloadTrigger = 'api') => (reloading = (reloading ?? Promise.resolve(true)).then(() => reload(trigger), () => reload(trigger)));
  let admin: AdminServer | undefined;
  let health: HealthServer | undefined;
  try {
    admin = config.admin && opts.admin !== false ? await startAdmin(config.admin, { control: localControl(gateway, access, authority ?? memoryChanger(users), () => serialReload('admin'), readiness, metrics ? async () => ({ contentType: METRICS_CONTENT_TYPE, text: await metrics.registry.metrics() }) : undefined, deviceAuthority), log, token: adminToken, console: consoleSources(file, () => state, audit) }) : undefined;
    health = config.health && opts.admin !== false ? await startHealthServer(config.health, readiness, log) : undefined;
  } catch (e) {
    // (an admin or probe port in use): nothing may stay open behind the error, or the process would not end.
    await admin?.stop();
    await gateway.stop(0);
    await state.directory.close();
    await authority?.close();
    await deviceAuthority?.close();
    metrics?.close();
    unsubscribeLog();
    throw e;
  }
  watcher = opts.watch ? watchConfigFiles(file, () => state.config, () => void serialReload('watch')) : undefined;
  return {
    gateway,
    access,
    authority,
    devices,
    admin,
    audit,
    readiness,
    metrics,
    health,
    state: () => state,
    reload: serialReload,
    async stop(o: { drain?: boolean } = {}) {
      // Not ready from this moment: a load balancer probing /readyz sends no one new.
      readiness.startDraining();
      metrics?.setDraining(true);
      watcher?.close();
      const drainMs = o.drain ? state.config.http.drainTimeout : 0;
      if (drainMs > 0) recordDrain('started', gateway.connections.size, drainMs);
      await gateway.stop(drainMs);
      if (drainMs > 0) recordDrain('finished', gateway.connections.size, drainMs);
      await health?.stop();
      await admin?.stop();
      await state.directory.close();
      await authority?.close();
      await signin?.stop();
      await secondFactor?.close();
      await deviceAuthority?.close();
      // Last: the closes of the drained connections are on the record.
      stopRecorder?.();
      await audit?.stop();
      metrics?.close();
      unsubscribeLog();
    },
  };
}

/** A state store that cannot be opened: what, and what to do. */
export function stateStoreProblem(e: StateStoreError): string {
  return `${e.message}; not starting: without the state store revoked users would be let in again (start the database, or set state.store)`;
}

/** What the admin console reads from this process: the running config and directory, the audit store. */
export function consoleSources(file: string, state: () => AccessState<GatewayConfig>, audit: AuditTrail | undefined): ConsoleSources {
  return {
    configFile: file,
    directory: () => state().directory,
    audit: () => audit?.writer.store,
    config: () => {
      const c = state().config;
      const ns = c.autodiscover.namespaces[0]?.external;
      return { policy: c.policy, directoryFile: c.directory?.provider === 'file' ? c.directory.file : undefined, publishedName: ns, ca: c.upstream.tls.ca };
    },
  };
}

function liveBytes(gateway: Gateway): { in: number; out: number } {
  let i = 0;
  let o = 0;
  for (const c of gateway.connections) {
    i += c.bytesFromClient;
    o += c.bytesToClient;
  }
  return { in: i, out: o };
}

function recordDrain(phase: 'started' | 'finished', connections: number, deadlineMs: number): void {
  if (events.drain.hasSubscribers) events.drain.publish({ at: Date.now(), phase, connections, deadlineMs });
}
