// The login storm of issue #18: a Samba AD DC with 2,000 users in 20 groups nested into
// Outlook-Remote and 100 users in no allowed group; after a restart every client logs in at once,
// 2,100 Basic-authenticated EWS POSTs, each on a new TLS connection, 200 at a time. Rows: straight
// to the lab Exchange, through the gateway with a file directory of the same users, through the
// gateway with AD (cold cache: a fresh process), and the same storm again (warm).
//   npm run bench:storm              this step alone; rewrites its section of docs/benchmarks.md
//   npm run bench:storm -- --quick   a smaller storm (500 logins, one round), for a try
//   ... -- --rounds N                rounds of the direct / file / AD rows (default 3; medians reported)
//   ... -- --before DIR              adds rows for the gateway in DIR (e.g. `git archive` of the code before #18)
// `npm run bench` runs it as its last step.
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCa, issueServerCert } from '../src/lab/certs.js';
import { GATEWAY_V8_FLAGS } from '../src/cli/serve-primary.js';
import type { DirectoryStats } from '../src/directory/provider.js';
import { STORM_EWS_BODY, STORM_PASSWORD, stormNames, stormYaml } from '../scripts/storm-users.js';
import { cpuTree, waitPort } from './measure.js';
import { start } from './peers.js';
import type { StormRequest, StormRun } from './storm-client.js';
import { type GroupCost, measureGroupCosts } from './storm-group-costs.js';
import { type StormResults, type StormRow, writeStormSection } from './storm-report.js';

const ROOT = new URL('..', import.meta.url).pathname;
const DIR = '/tmp/pcbench-storm';
const DC = '/tmp/pcbench-storm-dc';
const LAB_PORT = 26443;

export interface StormOptions {
  readonly quick?: boolean;
  /** Extra YAML lines for the ldap directory (experiments: `--ldap 'pool: { size: 8 }'`). */
  readonly ldapExtra?: string;
  /** Rounds of direct / file / AD (default 3, 1 with quick); the "before" rows run once. */
  readonly rounds?: number;
  /** Only these rows (experiments: `--rows file,ad`); all by default. */
  readonly rows?: readonly string[];
  /** A checkout of the gateway to measure beside the current one (its rows are marked "before"). */
  readonly beforeRoot?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds the whole machine has been busy (all cores, every process), from /proc/stat. */
function machineBusy(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / 100;
}

function forkTs(file: string, args: string[], execArgv: string[] = []): ChildProcess {
  return fork(path.join(ROOT, file), args, { execArgv: [...execArgv, '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function next<T>(p: ChildProcess, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${what} exited ${code}`));
    p.once('exit', onExit);
    p.once('message', (m: T) => {
      p.off('exit', onExit);
      resolve(m);
    });
  });
}

/** A gateway process for one configuration; resolves once it listens. */
async function gateway(config: string, root?: string): Promise<{ p: ChildProcess; port: number; stats(): Promise<DirectoryStats | null>; stop(): Promise<void> }> {
  const p = forkTs('bench/storm-gateway.ts', [config, ...(root ? ['--root', root] : [])], GATEWAY_V8_FLAGS);
  const { port } = await next<{ port: number }>(p, 'gateway');
  return {
    p,
    port,
    stats: async () => {
      p.send('stats');
      const m = await next<{ stats: DirectoryStats | null; loopDelayMs: { p50: number; p99: number; max: number } }>(p, 'gateway');
      console.error(`  gateway event-loop delay since last asked: p50 ${m.loopDelayMs.p50.toFixed(1)} ms, p99 ${m.loopDelayMs.p99.toFixed(1)} ms, max ${m.loopDelayMs.max.toFixed(0)} ms`);
      return m.stats;
    },
    stop: async () => {
      const gone = new Promise((r) => p.once('exit', r));
      p.send('stop');
      await Promise.race([gone, sleep(5000).then(() => p.kill('SIGKILL'))]);
    },
  };
}

function gatewayConfig(name: string, pki: { cert: string; key: string; ca: string }, directory: string): string {
  const file = path.join(DIR, name);
  writeFileSync(
    file,
    `listeners:
  - { address: 127.0.0.1, port: 0, zone: external, tls: { certificates: [{ cert: ${pki.cert}, key: ${pki.key} }] } }
upstream: { url: "https://127.0.0.1:${LAB_PORT}", tls: { ca: ${pki.ca} } }
policy:
  defaults: { external: deny, internal: deny }
  rules: [{ name: outlook-remote, effect: allow, zones: [external], protocols: [autodiscover, mapi, rpc, ews, oab], groups: [Outlook-Remote] }]
autodiscover: { rewrite: false }
${directory}
log: { level: warn }
`,
  );
  return file;
}

export async function runStorm(o: StormOptions = {}): Promise<StormResults> {
  const shape = o.quick ? { users: 480, groups: 20, loose: 20 } : { users: 2000, groups: 20, loose: 100 };
  const concurrency = o.quick ? 100 : 200;
  const rounds = o.rounds ?? (o.quick ? 1 : 3);
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const procs: ChildProcess[] = [];
  const dcDown = () => execFileSync('bash', [path.join(ROOT, 'scripts/samba-dc.sh'), 'down', DC]);
  try {
    // The DC and its population (about 15 s), the PKI, one YAML for the lab and the file row.
    const t0 = Date.now();
    execFileSync('bash', [path.join(ROOT, 'scripts/samba-dc.sh'), 'up', DC], { stdio: 'pipe' });
    execFileSync('bash', [path.join(ROOT, 'scripts/samba-dc.sh'), 'storm', DC, String(shape.users), String(shape.groups), String(shape.loose)], { stdio: 'pipe' });
    console.error(`storm: Samba AD DC with ${shape.users + shape.loose} users ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const samba = Number(readFileSync(path.join(DC, 'samba.pid'), 'utf8'));
    const ca = await createCa('Portcullis Storm CA');
    const leaf = await issueServerCert(ca, { names: ['localhost', 'mail.lab.example'], ips: ['127.0.0.1'] });
    const f = (n: string, s: string) => (writeFileSync(path.join(DIR, n), s), path.join(DIR, n));
    const pki = { ca: f('ca.crt', ca.cert), cert: f('leaf.crt', leaf.cert + ca.cert), key: f('leaf.key', leaf.key) };
    const yaml = f('storm.yaml', stormYaml(shape));
    const lab = start(process.execPath, [path.join(ROOT, 'bin/portcullis.js'), 'lab', '-d', yaml, '--cert', pki.cert, '--key', pki.key, '--port', String(LAB_PORT)], DIR, 'storm lab');
    procs.push(lab);
    await waitPort(LAB_PORT, 30_000);

    // Interleaved so that the users in no group arrive spread over the storm, as they would.
    const names = stormNames(shape);
    const users = names.map((_, i) => names[(i * 7919) % names.length]!);
    const client = forkTs('bench/storm-client.ts', []);
    procs.push(client);
    await next(client, 'storm client');
    const fire = async (port: number): Promise<StormRun> => {
      client.send({ port, ca: ca.cert, users, password: STORM_PASSWORD, concurrency, body: STORM_EWS_BODY } satisfies StormRequest);
      return next<StormRun>(client, 'storm client');
    };
    const rows: StormRow[] = [];
    // The storm's own processes (lab, client, gateway, DC) against everything the machine ran.
    const ours = (pid: number | undefined) => cpuTree(lab.pid!) + cpuTree(client.pid!) + cpuTree(samba) + (pid && pid !== lab.pid ? cpuTree(pid) : 0);
    const measure = async (label: StormRow['label'], port: number, pid: number | undefined, stats?: () => Promise<DirectoryStats | null>): Promise<StormRow> => {
      const dc0 = cpuTree(samba);
      const gw0 = pid ? cpuTree(pid) : 0;
      const s0 = stats ? await stats() : null;
      const ours0 = ours(pid);
      const busy0 = machineBusy();
      const run = await fire(port);
      const stormCpuMs = (ours(pid) - ours0) * 1000;
      const machineMs = (machineBusy() - busy0) * 1000;
      const s1 = stats ? await stats() : null;
      const row: StormRow = {
        label,
        round: rows.filter((x) => x.label === label).length,
        run,
        dcCpuMs: (cpuTree(samba) - dc0) * 1000,
        gatewayCpuMs: pid ? (cpuTree(pid) - gw0) * 1000 : undefined,
        ldapOps: s0 && s1 ? s1.ldapOperations.total - s0.ldapOperations.total : undefined,
        foregroundQueries: s0 && s1 ? s1.directoryQueries - s1.backgroundRefreshes - (s0.directoryQueries - s0.backgroundRefreshes) : undefined,
        connections: s1 ? s1.domainControllers.reduce((a, d) => a + d.service.peak + d.passwords.peak, 0) : undefined,
        stormCpuMs,
        otherCpuMs: Math.max(0, machineMs - stormCpuMs),
        lookupWaitMs: s0 && s1 && s1.directoryQueries > s0.directoryQueries ? (s1.waitMs.total - s0.waitMs.total) / Math.max(1, s1.directoryQueries - s0.directoryQueries) : undefined,
      };
      rows.push(row);
      console.error(`storm ${label} (round ${row.round + 1}): wall ${(run.wallMs / 1000).toFixed(1)} s, p50 ${run.p50Ms.toFixed(0)} ms, p99 ${run.p99Ms.toFixed(0)} ms, statuses ${JSON.stringify(run.statuses)}, DC CPU ${row.dcCpuMs.toFixed(0)} ms, storm CPU ${(stormCpuMs / 1000).toFixed(1)} s, other processes ${(row.otherCpuMs / 1000).toFixed(1)} s, LDAP ops ${row.ldapOps ?? 'n/a'}${row.lookupWaitMs !== undefined ? `, a lookup waited ${row.lookupWaitMs.toFixed(0)} ms on average` : ''}`);
      await sleep(1000);
      return row;
    };

    const want = (row: string) => !o.rows || o.rows.includes(row);
    const adDirectory = `directory:
  provider: ldap
  url: ldaps://127.0.0.1:636
  ca: ${path.join(DC, 'tls/dc.crt')}
  bindDn: svc-gateway@lab.example
  bindPassword: Svc-Passw0rd!
  baseDn: CN=Users,DC=lab,DC=example
  flavor: ad
  netbiosDomain: LAB
  upnSuffixes: [lab.example]
  cacheTtl: 10m`;
    await fire(LAB_PORT); // warms the lab (JIT) and the client alike
    // Rounds interleave the setups so that noise from the shared machine hits all of them alike;
    // every gateway is a fresh process (the AD one starts with an empty cache: "after a restart").
    for (let round = 0; round < rounds; round++) {
      if (want('direct')) await measure('direct', LAB_PORT, lab.pid);
      if (want('file')) {
        const file = await gateway(gatewayConfig('file.yaml', pki, `directory: { provider: file, file: ${yaml} }`));
        procs.push(file.p);
        await measure('file', file.port, file.p.pid, file.stats);
        await file.stop();
      }
      if (want('ad')) {
        const extra = o.ldapExtra ? `\n  ${o.ldapExtra}` : '';
        const ad = await gateway(gatewayConfig('ad.yaml', pki, adDirectory + extra));
        procs.push(ad.p);
        await measure('ad-cold', ad.port, ad.p.pid, ad.stats);
        await measure('ad-warm', ad.port, ad.p.pid, ad.stats);
        await ad.stop();
      }
    }
    if (o.beforeRoot) {
      const old = await gateway(gatewayConfig('ad-before.yaml', pki, adDirectory), o.beforeRoot);
      procs.push(old.p);
      await measure('before-cold', old.port, old.p.pid);
      await measure('before-warm', old.port, old.p.pid);
      await old.stop();
    }
    // What each way of resolving groups costs the DC (after the storms: it warms the DC's caches).
    let groupCosts: GroupCost[] = [];
    try {
      if (want('costs')) groupCosts = await measureGroupCosts(DC, shape.users, o.quick);
    } catch (e) {
      console.error(`storm: group-resolution costs not measured: ${(e as Error).message}`);
    }
    return { shape, concurrency, rounds, rows, groupCosts, sambaVersion: execFileSync('samba', ['--version'], { encoding: 'utf8' }).trim(), quick: o.quick ?? false };
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    dcDown();
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
  const before = arg('--before');
  const ldap = arg('--ldap');
  const rows = arg('--rows');
  const rounds = arg('--rounds');
  const opts: StormOptions = { quick: process.argv.includes('--quick'), ...(before ? { beforeRoot: before } : {}), ...(ldap ? { ldapExtra: ldap } : {}), ...(rows ? { rows: rows.split(',') } : {}), ...(rounds ? { rounds: Number(rounds) } : {}) };
  runStorm(opts).then(
    (r) => {
      // Experiments (a subset of rows, other settings) do not overwrite the published section.
      if (opts.rows || opts.ldapExtra) return process.exit(0);
      writeStormSection(r, path.join(ROOT, 'docs/benchmarks.md'));
      console.error('wrote the login storm section of docs/benchmarks.md');
      process.exit(0);
    },
    (e: Error) => {
      console.error(`storm failed: ${e.stack ?? e.message}`);
      process.exit(1);
    },
  );
}
