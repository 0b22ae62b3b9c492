import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { createLogger } from '../audit/logger.js';
import { loadConfig } from '../config/load.js';
import { formatProblem } from '../config/yaml-source.js';
import { loadDirectoryFile } from '../directory/file-directory.js';
import { startRuntime } from './runtime.js';
import type { AdminServer } from '../admin/admin-server.js';
import { AdminTokenError, tokenAnnouncement } from '../admin/admin-token.js';
import { GATEWAY_V8_FLAGS, gatewayExecArgv, servePrimary, workerCount } from './serve-primary.js';
import { serveWorker } from './serve-worker.js';
import { startLab } from '../lab/lab-server.js';
import { writeDemoPki } from '../lab/certs.js';
import { labZone, startDnsResponder } from '../lab/dns-responder.js';
import { DEMO_PKI_DIR, ROOT, labOptions } from './lab-defaults.js';
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

function fail(lines: string[]): never {
  for (const l of lines) console.error(l);
  process.exit(1);
}

function onSignals(stop: () => Promise<void>): void {
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

async function serve(file: string): Promise<{ admin: AdminServer | undefined; stop(o?: { drain?: boolean }): Promise<void> }> {
  const r = loadConfig(file);
  if (!r.ok) fail([...r.problems.map(formatProblem), `${r.problems.length} problem(s); not starting`]);
  const log = createLogger(r.config.log.level);
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
    process.on('SIGHUP', () => void rt.reload());
    return rt;
  };
  // An unusable admin token file or a port that cannot be bound is the admin's to fix: one line, not a stack trace.
  const rt = await start().catch((e: unknown) => Promise.reject(e instanceof AdminTokenError ? new CliError(e.message) : (listenFailure(e, r.file, r.config) ?? e)));
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
      if (!/^https?:\/\/[^/\s]+/.test(o.externalUrl)) throw new CliError(`--external-url must be a URL such as https://mail.example.com, not "${o.externalUrl}"`);
      const d = loadDirectoryFile(path.resolve(o.directory));
      if (!d.ok) fail(d.problems.map(formatProblem));
      const lab = await startLabOn(d.directory, o.externalUrl, { host: o.host, port: portOption('--port', o.port), cert: readOption('--cert', o.cert), key: readOption('--key', o.key) }, '--cert/--key');
      console.log(`lab Exchange on ${lab.url}`);
      onSignals(() => lab.stop());
    });

  program
    .command('demo')
    .description('start the lab on :9443 and the gateway on :8443 with the demo directory')
    .action(async () => {
      const pki = await writeDemoPki(DEMO_PKI_DIR);
      const demo = path.join(ROOT, 'examples/demo');
      const d = loadDirectoryFile(path.join(demo, 'directory.yaml'));
      if (!d.ok) fail(d.problems.map(formatProblem));
      const lab = await startLabOn(d.directory, 'https://127.0.0.1:8443', { host: '127.0.0.1', port: 9443, cert: readFileSync(pki.lab.certFile), key: readFileSync(pki.lab.keyFile) }, 'the demo lab');
      const rt = await serve(path.join(demo, 'portcullis.yaml'));
      // DNS for lab.example on loopback, so `portcullis doctor --resolver` sees real records.
      const dns = await startDnsResponder(labZone(8443), 8053).catch(async (e: unknown) => {
        await rt.stop();
        await lab.stop();
        throw listenFailure(e) ?? e;
      });
      const ca = path.relative(process.cwd(), pki.caFile);
      const cfg = path.relative(process.cwd(), path.join(demo, 'portcullis.yaml'));
      console.error(`
${pc.bold('Portcullis demo')}: lab Exchange on ${lab.url}, gateway on https://127.0.0.1:8443 (external zone)
Users alice, bob, carol, dave (domain LAB, password Passw0rd!). Try:

  curl --cacert ${ca} --ntlm -u 'LAB\\alice:Passw0rd!' https://127.0.0.1:8443/owa/ -i
  curl --cacert ${ca} -u 'bob@lab.example:Passw0rd!' https://127.0.0.1:8443/EWS/Exchange.asmx -i
  curl --cacert ${ca} --ntlm -u 'LAB\\alice:Passw0rd!' -H 'Content-Type: text/xml' -H 'X-MapiHttpCapability: 1' \\
       --data '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>alice@lab.example</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>' \\
       https://127.0.0.1:8443/autodiscover/autodiscover.xml
  curl --cacert ${ca} -i https://127.0.0.1:8443/ecp/        ${pc.dim('# refused from the external zone')}
  curl --cacert ${ca} --ntlm -u 'LAB\\carol:Passw0rd!' -i https://127.0.0.1:8443/EWS/Exchange.asmx   ${pc.dim('# carol: denied, Exchange never sees her login')}
  portcullis policy explain --user 'LAB\\bob' --protocol mapi --zone external --admin -c ${cfg}
  portcullis revoke 'LAB\\bob' -c ${cfg}          ${pc.dim("# cuts bob's open connections now")}
  echo 'Passw0rd!' | portcullis doctor https://mail.lab.example:8443 --resolver 127.0.0.1:8053 --ca ${ca} \\
       --email alice@lab.example --user 'LAB\\alice' --password-stdin --protocols autodiscover,rpc,mapi,ews

Admin endpoint ${rt.admin?.url}: every request needs the token in ${rt.admin ? path.relative(process.cwd(), rt.admin.tokenFile) : '(none)'}
(Authorization: Bearer <token>); the portcullis commands above read it through -c ${cfg}.

Ctrl-C stops both.
`);
      onSignals(async () => {
        await rt.stop();
        await lab.stop();
        await dns.stop();
      });
    });
}
