import cluster from 'node:cluster';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { createLogger } from '../audit/logger.js';
import { loadConfig } from '../config/load.js';
import { formatProblem } from '../yaml/yaml-source.js';
import { loadDirectoryFile } from '../directory/file-directory.js';
import { startRuntime } from './runtime.js';
import type { AdminServer } from '../admin/admin-server.js';
import { AdminTokenError, tokenAnnouncement } from '../admin/admin-token.js';
import { AuditStoreError } from '../audit/audit-store.js';
import { GATEWAY_V8_FLAGS, gatewayExecArgv, servePrimary, workerCount } from './serve-primary.js';
import { serveWorker } from './serve-worker.js';
import { stopOnSignals } from './stop-signals.js';
import { positiveNumber } from './commands-access.js';
import { startLab } from '../lab/lab-server.js';
import { labOptions } from './lab-defaults.js';
import { CliError, debugRequested, describeFailure, fileErrorText } from './cli-error.js';
import { listenFailure } from './start-errors.js';
import type { ToPrimary } from './worker-messages.js';

/** A TCP port from the command line (1-65535). */
function portOption(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 65535) throw new CliError(`${name} must be a port number (1-65535), not "${value}"`);
  return n;
}

/** A PEM file named on the command line; `--cert missing.crt: not found`. */
function readOption(name: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new CliError(`${name} ${fileErrorText(e, file) ?? `${file}: ${(e as Error).message}`}`);
  }
}

/** The lab (or the demo's lab), its start failures in one line. */
async function startLabOn(d: Parameters<typeof labOptions>[0], externalUrl: string, o: { host: string; port: number; cert: Buffer; key: Buffer }, what: string) {
  try {
    return await startLab(labOptions(d, externalUrl), o);
  } catch (e) {
    const listen = listenFailure(e);
    if (listen) throw listen;
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (/^ERR_OSSL|^ERR_TLS/.test(code) || /PEM|key values mismatch/i.test((e as Error).message)) {
      throw new CliError(`${what}: the certificate and key cannot be used (${(e as Error).message}): give a PEM certificate and its own private key`);
    }
    throw e;
  }
}

export function fail(lines: string[]): never {
  for (const l of lines) console.error(l);
  process.exit(1);
}

/** Serves a config; `logFile` sends the JSON log there instead of stdout (the demo keeps its terminal for the banner). */
export async function serve(file: string, o: { logFile?: string } = {}): Promise<{ admin: AdminServer | undefined; stop(o?: { drain?: boolean }): Promise<void> }> {
  const r = loadConfig(file);
  if (!r.ok) fail([...r.problems.map(formatProblem), `${r.problems.length} problem(s); not starting`]);
  // The log names users and client addresses: readable by its owner only, as the audit trail is.
  if (o.logFile && existsSync(o.logFile)) chmodSync(o.logFile, 0o600);
  const log = createLogger(r.config.log.level, o.logFile ? pino.destination({ dest: o.logFile, append: true, mkdir: true, sync: false, mode: 0o600 }) : undefined);
  // A forked worker re-runs this command: it serves, the primary supervises.
  if (cluster.isWorker) {
    // The primary prints why its worker could not start, and stops: not a restart every 2 s.
    return serveWorker(r.file, r.config, log).catch((e: unknown) => {
      const f = describeFailure(listenFailure(e, r.file, r.config) ?? e, debugRequested());
      process.send?.({ t: 'failed', message: f.text, exitCode: f.exitCode } satisfies ToPrimary, () => process.exit(f.exitCode));
      return new Promise<never>(() => {});
    });
  }
  for (const w of r.warnings) log.warn(formatProblem(w));
  const start = async () => {
    if (workerCount(r.config) > 1) return servePrimary(r.file, r.config, log);
    if (!process.versions.bun && gatewayExecArgv(process.execArgv).length !== process.execArgv.length) {
      log.warn({ flags: GATEWAY_V8_FLAGS }, 'node was started without the gateway V8 flags (bin/portcullis.js sets them): streaming costs more CPU');
    }
    const rt = await startRuntime(r.file, r.config, log, { watch: true });
    process.on('SIGHUP', () => void rt.reload('signal'));
    return rt;
  };
  // An unusable admin token file or audit store, or a port that cannot be bound, is the admin's to fix: one line, not a stack trace.
  const rt = await start().catch((e: unknown) => Promise.reject(e instanceof AdminTokenError || e instanceof AuditStoreError ? new CliError(e.message) : (listenFailure(e, r.file, r.config) ?? e)));
  // Generated just now: shown once on the terminal, never in the log.
  if (rt.admin?.tokenCreated) process.stderr.write(tokenAnnouncement(rt.admin.tokenFile, rt.admin.token, file));
  return rt;
}

export function registerRunCommands(program: Command): void {
  program
    .command('serve')
    .description('run the gateway')
    .requiredOption('-c, --config <file>', 'gateway configuration (YAML)')
    .action(async (o: { config: string }) => {
      const rt = await serve(o.config);
      // SIGTERM drains: exchanges in flight finish (http.drainTimeout), then the process exits 0.
      stopOnSignals(() => rt.stop({ drain: true }));
    });

  program
    .command('lab')
    .description('run the lab Exchange (an Exchange-like upstream with real NTLM) for tests and demos')
    .requiredOption('-d, --directory <file>', 'directory YAML with users, passwords and groups')
    .requiredOption('--cert <file>', 'PEM certificate')
    .requiredOption('--key <file>', 'PEM private key')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port', '9443')
    .option('--external-url <url>', 'external base URL Autodiscover hands out', 'https://mail.lab.example')
    .action(async (o: { directory: string; cert: string; key: string; host: string; port: string; externalUrl: string }) => {
      if (!/^https?:\/\/[^/\s]+/.test(o.externalUrl)) throw new CliError(`--external-url must be a URL such as https://mail.example.com, not "${o.externalUrl}"`);
      const d = loadDirectoryFile(path.resolve(o.directory));
      if (!d.ok) fail(d.problems.map(formatProblem));
      const lab = await startLabOn(d.directory, o.externalUrl, { host: o.host, port: portOption('--port', o.port), cert: readOption('--cert', o.cert), key: readOption('--key', o.key) }, '--cert/--key');
      console.log(`lab Exchange on ${lab.url}`);
      stopOnSignals(() => lab.stop());
    });
}
