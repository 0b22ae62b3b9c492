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
import { UserStateStore } from '../policy/user-states.js';
import { AttemptLimiter, type LoginAttempts } from '../policy/login-attempts.js';
import { type AdminServer, startAdmin } from '../admin/admin-server.js';
import { ensureAdminToken } from '../admin/admin-token.js';
import { localControl } from '../admin/control.js';
import { prepareOffLoop } from './reload-thread.js';
import { watchFiles } from './watch-files.js';
import { CliError } from './cli-error.js';

export interface Runtime {
  readonly gateway: Gateway;
  readonly access: AccessControl;
  readonly admin: AdminServer | undefined;
  state(): AccessState;
  /** Re-reads the config and directory; false (and the old state kept) when anything is invalid. */
  reload(): Promise<boolean>;
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
export async function buildState(config: GatewayConfig, log: Logger, directory?: DirectoryProvider): Promise<{ ok: true; state: AccessState } | { ok: false; problems: string[] }> {
  const packed = !directory && config.directory?.provider === 'file' ? loadPackedDirectory(config.directory.file) : undefined;
  const given = directory ?? (packed ? packedProvider(packed) : undefined);
  const dir = given ? { ok: true as const, provider: given } : buildDirectory(config, log);
  if (!dir.ok) return { ok: false, problems: dir.problems };
  const key = ldapDirectoryKey(config);
  if (key && !given) ldapBuiltWith.set(dir.provider, key);
  const b = config.identity?.bearer;
  return {
    ok: true,
    state: { config, policy: compilePolicy(config.policy), directory: dir.provider, bearer: b ? await bearerVerifier(b) : undefined },
  };
}

/**
 * Reads the config file and builds its state; undefined (every problem logged) when invalid. The
 * reading, parsing and validating, and packing a file directory, happen in a worker thread unless
 * the files are small. An LDAP directory whose settings and files did not change is taken over
 * from `current` (ldapDirectoryKey), with its cache and pool.
 */
export async function loadNextState(file: string, log: Logger, current?: AccessState): Promise<AccessState | undefined> {
  const r = await prepareOffLoop(file, log);
  if (!r.ok) {
    for (const p of r.problems) log.error(p);
    log.error({ problems: r.problems.length }, r.stage === 'config' ? 'new configuration rejected; the running one stays' : 'new directory rejected; the running one stays');
    return undefined;
  }
  const built = current && ldapBuiltWith.get(current.directory);
  const keep = built !== undefined && built === ldapDirectoryKey(r.config) ? current!.directory : undefined;
  if (keep) log.info('LDAP directory settings unchanged: its cache and connections are kept');
  const next = await buildState(r.config, log, r.directory ? packedProvider(r.directory) : keep);
  if (!next.ok) {
    for (const p of next.problems) log.error(p);
    log.error({ problems: next.problems.length }, 'new directory rejected; the running one stays');
    return undefined;
  }
  return next.state;
}

export interface RuntimeOptions {
  /** Watch the config and directory files and reload on change (`portcullis serve`). */
  readonly watch?: boolean;
  /** Revocations and lockouts; a worker passes its replica of the primary's store. */
  readonly users?: UserStateStore;
  /** Where login attempt slots are reserved; a worker passes the primary's (over IPC). */
  readonly attempts?: LoginAttempts;
  /** Start the admin endpoint from the config (false in workers: the primary serves it). */
  readonly admin?: boolean;
}

export async function startRuntime(file: string, config: GatewayConfig, log: Logger, opts: RuntimeOptions = {}): Promise<Runtime> {
  // The admin token first: a token file that cannot hold one stops the start before anything listens.
  const adminToken = config.admin && opts.admin !== false ? ensureAdminToken(config.admin.tokenFile) : undefined;
  const first = await buildState(config, log);
  if (!first.ok) throw new CliError(`${first.problems.join('\n')}\n${first.problems.length} problem(s); not starting`);
  let state = first.state;
  const users = opts.users ?? new UserStateStore(config.lockout);
  const access = new AccessControl(() => state, users, opts.attempts ?? new AttemptLimiter(users), log);
  const gateway = await startGateway({ config, log, gates: [edgeGate(() => state), access, autodiscoverGate(() => state, access)] });
  const reevaluate = async (why: string) => {
    const closed = await access.reevaluate(gateway.connections);
    log.info({ why, closed }, 're-evaluated live connections');
    return closed;
  };
  state.directory.onChange?.(() => void reevaluate('directory changed'));
  let reloading: Promise<boolean> | undefined;
  const reload = async (): Promise<boolean> => {
    const next = await loadNextState(file, log, state);
    if (!next) return false;
    const old = state;
    state = next;
    if (old.directory !== state.directory) {
      state.directory.onChange?.(() => void reevaluate('directory changed'));
      void old.directory.close();
    }
    gateway.reload(next.config);
    users.setLockoutConfig(next.config.lockout);
    log.info('configuration reloaded');
    await reevaluate('reload');
    return true;
  };
  const serialReload = () => (reloading = (reloading ?? Promise.resolve(true)).then(reload, reload));
  let admin: AdminServer | undefined;
  try {
    admin = config.admin && opts.admin !== false ? await startAdmin(config.admin, { control: localControl(gateway, access, users, serialReload), log, token: adminToken }) : undefined;
  } catch (e) {
    // (an admin port in use): nothing may stay open behind the error, or the process would not end.
    await gateway.stop(0);
    await state.directory.close();
    throw e;
  }
  const files = [file, ...(config.directory?.provider === 'file' ? [config.directory.file] : [])];
  const watcher = opts.watch ? watchFiles(files, () => void serialReload()) : undefined;
  return {
    gateway,
    access,
    admin,
    state: () => state,
    reload: serialReload,
    async stop(o: { drain?: boolean } = {}) {
      watcher?.close();
      await gateway.stop(o.drain ? state.config.http.drainTimeout : 0);
      await admin?.stop();
      await state.directory.close();
    },
  };
}
