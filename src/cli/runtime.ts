// The composition root: config -> directory -> policy -> gateway -> admin endpoint, plus hot
// reload. A reload builds the whole new state first and swaps it only if all of it is valid.
import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load.js';
import type { GatewayConfig } from '../config/schema.js';
import { formatProblem } from '../config/yaml-source.js';
import { buildDirectory } from '../directory/build-provider.js';
import { bearerVerifier } from '../identity/bearer.js';
import { type Gateway, startGateway } from '../listen/gateway.js';
import { AccessControl, type AccessState } from '../policy/access-gate.js';
import { compilePolicy } from '../policy/evaluate.js';
import { edgeGate } from '../policy/edge-gate.js';
import { autodiscoverGate } from '../autodiscover/autodiscover-gate.js';
import { UserStateStore } from '../policy/user-states.js';
import { type AdminServer, startAdmin } from '../admin/admin-server.js';

export interface Runtime {
  readonly gateway: Gateway;
  readonly access: AccessControl;
  readonly admin: AdminServer | undefined;
  state(): AccessState;
  /** Re-reads the config and directory; false (and the old state kept) when anything is invalid. */
  reload(): Promise<boolean>;
  stop(): Promise<void>;
}

async function buildState(config: GatewayConfig, log: Logger): Promise<{ ok: true; state: AccessState } | { ok: false; problems: string[] }> {
  const dir = buildDirectory(config, log);
  if (!dir.ok) return { ok: false, problems: dir.problems };
  const b = config.identity?.bearer;
  return {
    ok: true,
    state: { config, policy: compilePolicy(config.policy), directory: dir.provider, bearer: b ? await bearerVerifier(b) : undefined },
  };
}

export async function startRuntime(file: string, config: GatewayConfig, log: Logger, opts: { watch?: boolean } = {}): Promise<Runtime> {
  const first = await buildState(config, log);
  if (!first.ok) throw new Error(first.problems.join('\n'));
  let state = first.state;
  const users = new UserStateStore(config.lockout);
  const access = new AccessControl(() => state, users, log);
  const gateway = await startGateway({ config, log, gates: [edgeGate(() => state), access, autodiscoverGate(() => state, access)] });
  const reevaluate = async (why: string) => {
    const closed = await access.reevaluate(gateway.connections);
    log.info({ why, closed }, 're-evaluated live connections');
    return closed;
  };
  state.directory.onChange?.(() => void reevaluate('directory changed'));
  let reloading: Promise<boolean> | undefined;
  const reload = async (): Promise<boolean> => {
    const r = loadConfig(file);
    if (!r.ok) {
      for (const p of r.problems) log.error(formatProblem(p));
      log.error({ problems: r.problems.length }, 'new configuration rejected; the running one stays');
      return false;
    }
    const next = await buildState(r.config, log);
    if (!next.ok) {
      for (const p of next.problems) log.error(p);
      log.error({ problems: next.problems.length }, 'new directory rejected; the running one stays');
      return false;
    }
    const old = state;
    state = next.state;
    state.directory.onChange?.(() => void reevaluate('directory changed'));
    gateway.reload(r.config);
    users.setLockoutConfig(r.config.lockout);
    if (old.directory !== state.directory) void old.directory.close();
    log.info('configuration reloaded');
    await reevaluate('reload');
    return true;
  };
  const serialReload = () => (reloading = (reloading ?? Promise.resolve(true)).then(reload, reload));
  const admin = config.admin ? await startAdmin(config.admin, { gateway, access, users, reload: serialReload, log }) : undefined;
  const watchers: FSWatcher[] = [];
  if (opts.watch) {
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(() => void serialReload(), 150);
    };
    const files = [file, ...(config.directory?.provider === 'file' ? [config.directory.file] : [])];
    // Watch the folders: editors replace files (rename), which a file watch would lose.
    for (const dir of new Set(files.map((f) => path.dirname(f)))) {
      const names = new Set(files.filter((f) => path.dirname(f) === dir).map((f) => path.basename(f)));
      watchers.push(watch(dir, (_e, name) => name && names.has(name.toString()) && schedule()));
    }
  }
  return {
    gateway,
    access,
    admin,
    state: () => state,
    reload: serialReload,
    async stop() {
      for (const w of watchers) w.close();
      await admin?.stop();
      await gateway.stop();
      await state.directory.close();
    },
  };
}
