import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
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
import { GATEWAY_V8_FLAGS, gatewayExecArgv, servePrimary, workerCount } from './serve-primary.js';
import { serveWorker } from './serve-worker.js';
import { positiveNumber } from './commands-access.js';
import { startLab } from '../lab/lab-server.js';
import { labOptions } from './lab-defaults.js';

export function fail(lines: string[]): never {
  for (const l of lines) console.error(l);
  process.exit(1);
}

export function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.error('\nstopping…');
    void stop().then(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** Serves a config; `logFile` sends the JSON log there instead of stdout (the demo keeps its terminal for the banner). */
export async function serve(file: string, o: { logFile?: string } = {}): Promise<{ admin: AdminServer | undefined; stop(o?: { drain?: boolean }): Promise<void> }> {
  const r = loadConfig(file);
  if (!r.ok) fail([...r.problems.map(formatProblem), `${r.problems.length} problem(s); not starting`]);
  const log = createLogger(r.config.log.level, o.logFile ? pino.destination({ dest: o.logFile, append: true, mkdir: true, sync: false }) : undefined);
  // A forked worker re-runs this command: it serves, the primary supervises.
  if (cluster.isWorker) return serveWorker(r.file, r.config, log);
  for (const w of r.warnings) log.warn(formatProblem(w));
  const start = async () => {
    if (workerCount(r.config) > 1) return servePrimary(r.file, r.config, log);
    if (gatewayExecArgv(process.execArgv).length !== process.execArgv.length) {
      log.warn({ flags: GATEWAY_V8_FLAGS }, 'node was started without the gateway V8 flags (bin/portcullis.js sets them): streaming costs more CPU');
    }
    const rt = await startRuntime(r.file, r.config, log, { watch: true });
    process.on('SIGHUP', () => void rt.reload('signal'));
    return rt;
  };
  // An unusable admin token file is the admin's to fix: one line, not a stack trace.
  const rt = await start().catch((e: unknown) => (e instanceof AdminTokenError ? fail([`portcullis: ${e.message}`]) : Promise.reject(e)));
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
      onSignals(() => rt.stop({ drain: true }));
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
      const d = loadDirectoryFile(path.resolve(o.directory));
      if (!d.ok) fail(d.problems.map(formatProblem));
      const lab = await startLab(labOptions(d.directory, o.externalUrl), {
        host: o.host,
        port: positiveNumber('--port', o.port),
        cert: readFileSync(o.cert),
        key: readFileSync(o.key),
      });
      console.log(`lab Exchange on ${lab.url}`);
      onSignals(() => lab.stop());
    });
}
