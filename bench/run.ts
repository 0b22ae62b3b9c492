// npm run bench: Portcullis beside HAProxy and nginx, same upstream, same machine, one run.
// Writes docs/benchmarks.md (numbers, ratios, versions, configs, method) through bench/report.ts.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { createCa, issueServerCert } from '../src/lab/certs.js';
import { cpuTree, curlSpeed, fixedRate, idleConnections, idleFromChildren, rssTree, waitPort, wrk } from './measure.js';
import { PORTS, haproxyConf, nginxProxyConf, portcullisConf, start, startPortcullis, upstreamConf, useGatewayRuntime, writeConf } from './peers.js';
import { profileP1 } from './profile.js';
import { type Results, type Setup, SETUPS, median, writeReport } from './report.js';
import { runStorm } from './storm.js';
import { runReloadBench } from './reload.js';
import { renderReloadSection, spliceReload } from './reload-report.js';
import { renderStormSection, spliceStorm } from './storm-report.js';
import { runLdapCacheBench } from './ldap-cache.js';
import { writeRuntimeRow } from './runtime-report.js';
import { gatewayRuntime, parseRuntime } from './runtimes.js';

const ROOT = new URL('..', import.meta.url).pathname;
const DIR = '/tmp/pcbench';
const GiB = 1024 ** 3;
const BASIC = `Basic ${Buffer.from('LAB\\bob:Passw0rd!').toString('base64')}`;
const quick = process.argv.includes('--quick');
const SECONDS = quick ? 3 : 10;
const ROUNDS = quick ? 1 : 3;
const PEER_CONNS = quick ? 1000 : 9000;
const PAIRS = quick ? 2000 : 20000;
// --runtime node20|node24|node26|bun: the gateway's runtime; such a run writes only its row of the
// Runtimes table (bench/runtime-report.ts). --only-p1: P1 alone, nothing written (a smoke run).
const runtimeId = parseRuntime(process.argv);
const chosen = gatewayRuntime(runtimeId);
/**
 * The audit trail's SQLite store needs node:sqlite (Node 22.5+, Bun): on an older runtime the
 * gateway refuses to start with it, so such a run measures every setup with the audit trail off
 * and says so in its row.
 */
const auditAvailable = (() => {
  try {
    execFileSync(chosen.exec, ['-e', "require('node:sqlite')"], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const rt = auditAvailable ? chosen : { ...chosen, label: `${chosen.label} (audit trail off: no node:sqlite)` };
useGatewayRuntime(rt);
const onlyP1 = process.argv.includes('--only-p1');

const procs: ChildProcess[] = [];
function cleanup(): void {
  for (const p of procs) p.kill('SIGTERM');
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * P6 and P7 only, in one run (`npm run bench -- --directory-only`): the directory at scale (issue
 * #18) re-measured without the half hour of P1–P5; both sections are replaced in the document.
 */
async function directoryOnly(): Promise<void> {
  const before = process.argv.indexOf('--storm-before');
  const storm = await runStorm({ quick, ...(before > 0 ? { beforeRoot: process.argv[before + 1]! } : {}) });
  const reload = await runReloadBench({ rounds: quick ? 1 : 3 });
  const ldap = process.argv.includes('--no-ldap-cache') ? undefined : await runLdapCacheBench({ users: quick ? 5_000 : 50_000, rounds: quick ? 1 : 3 });
  const file = path.join(ROOT, 'docs/benchmarks.md');
  writeFileSync(file, spliceReload(spliceStorm(readFileSync(file, 'utf8'), renderStormSection(storm)), renderReloadSection({ reload, ldap })));
  console.error('wrote P6 and P7 of docs/benchmarks.md');
}

async function main(): Promise<void> {
  if (process.argv.includes('--directory-only')) return directoryOnly();
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  rmSync('/dev/shm/pcbench/sink', { recursive: true, force: true }); // uploads of an earlier run
  mkdirSync('/dev/shm/pcbench', { recursive: true, mode: 0o777 });
  execFileSync('chmod', ['777', '/dev/shm/pcbench']); // nginx workers run as nobody
  const big = path.join(DIR, '1g.bin');
  closeSync(openSync(big, 'w'));
  execFileSync('truncate', ['-s', String(GiB), big]);

  const ca = await createCa('Portcullis Bench CA');
  const leaf = await issueServerCert(ca, { names: ['localhost'], ips: ['127.0.0.1'] });
  const f = (n: string, s: string) => (writeFileSync(path.join(DIR, n), s), path.join(DIR, n));
  const pki = { ca: f('ca.crt', ca.cert), cert: f('leaf.crt', leaf.cert + ca.cert), key: f('leaf.key', leaf.key), pem: f('leaf.pem', leaf.cert + ca.cert + leaf.key) };
  const directory = path.join(DIR, 'directory.yaml');
  copyFileSync(path.join(ROOT, 'examples/demo/directory.yaml'), directory);
  const pcConf = (name: string, policy: boolean, port: number, workers: number, audit = auditAvailable) => writeConf(DIR, name, portcullisConf(DIR, pki, policy, directory, port, workers, audit));

  const pids = new Map<Setup, number>();
  const launch = (s: Setup, p: ChildProcess) => (procs.push(p), pids.set(s, p.pid!));
  launch('direct', start('nginx', ['-p', DIR, '-c', writeConf(DIR, 'upstream.conf', upstreamConf(DIR, pki))], DIR, 'upstream nginx'));
  launch('haproxy', start('haproxy', ['-f', writeConf(DIR, 'haproxy.cfg', haproxyConf(DIR, pki)), '-db'], DIR, 'haproxy'));
  launch('nginx', start('nginx', ['-p', DIR, '-c', writeConf(DIR, 'nginx-proxy.conf', nginxProxyConf(DIR, pki))], DIR, 'nginx proxy'));
  launch('pc1', startPortcullis(ROOT, pcConf('portcullis.yaml', false, PORTS.portcullis, 1), DIR, 'portcullis'));
  launch('pc2', startPortcullis(ROOT, pcConf('portcullis-workers.yaml', false, PORTS.portcullisWorkers, 2), DIR, 'portcullis (2 workers)'));
  launch('pc2policy', startPortcullis(ROOT, pcConf('portcullis-policy.yaml', true, PORTS.portcullisPolicy, 2), DIR, 'portcullis (2 workers, policy)'));
  launch('pc2noaudit', startPortcullis(ROOT, pcConf('portcullis-noaudit.yaml', true, PORTS.portcullisNoAudit, 2, false), DIR, 'portcullis (2 workers, policy, audit off)'));
  // A gateway on a runtime run for the first time compiles every source file (tsx cache): give it time.
  for (const s of SETUPS) await waitPort(s.port, 60_000);
  await sleep(1000); // workers of the primaries
  console.error(`all peers listening; gateway on ${rt.label}`);
  const url = (port: number, p: string) => `https://127.0.0.1:${port}${p}`;
  const headers = (s: (typeof SETUPS)[number]): Record<string, string> => (s.policy ? { Authorization: BASIC } : {});
  const r: Results = { p1: new Map(), p2: new Map(), p3: new Map(), p4: new Map(), p5: 0, rate: 0, seconds: SECONDS, rounds: ROUNDS, peerConns: PEER_CONNS, pairs: PAIRS, profile: undefined, storm: undefined, reload: undefined };

  // P1: small keep-alive POSTs; rounds interleave the setups so that noise hits all alike.
  for (const s of SETUPS) await wrk(url(s.port, '/mapi/emsmdb/'), DIR, headers(s), 2, 20).catch(() => undefined); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of SETUPS) {
      const cpu0 = cpuTree(pids.get(s.id)!);
      const w = await wrk(url(s.port, '/mapi/emsmdb/'), DIR, headers(s), SECONDS, 50);
      const cpu = cpuTree(pids.get(s.id)!) - cpu0;
      r.p1.set(s.id, [...(r.p1.get(s.id) ?? []), { ...w, cpuUsPerRequest: (cpu * 1e6) / (w.rps * SECONDS) }]);
      console.error(`P1 ${s.name}: ${w.rps.toFixed(0)} req/s, ${r.p1.get(s.id)!.at(-1)!.cpuUsPerRequest.toFixed(0)} µs CPU per request`);
    }
  }
  if (onlyP1) return;

  // P2: 1 GiB each way, one transfer at a time, interleaved rounds.
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of SETUPS.filter((x) => x.p2)) {
      const pid = pids.get(s.id)!;
      let cpu0 = cpuTree(pid);
      const down = await curlSpeed(url(s.port, '/big'));
      const downCpu = cpuTree(pid) - cpu0;
      cpu0 = cpuTree(pid);
      const up = await curlSpeed(url(s.port, `/sink/${s.id}-${round}`), big);
      const upCpu = cpuTree(pid) - cpu0;
      rmSync(`/dev/shm/pcbench/sink/${s.id}-${round}`, { force: true }); // 1 GiB of RAM each
      r.p2.set(s.id, [...(r.p2.get(s.id) ?? []), { down, up, downCpu, upCpu }]);
      console.error(`P2 ${s.name}: down ${(down / 2 ** 20).toFixed(0)} MiB/s, up ${(up / 2 ** 20).toFixed(0)} MiB/s`);
    }
  }

  // P4: latency added at half of Portcullis' (2 workers) median peak, the same rate for all.
  r.rate = Math.max(100, Math.floor(median(r.p1.get('pc2')!.map((x) => x.rps)) / 2));
  for (const s of SETUPS) {
    r.p4.set(s.id, await fixedRate(s.port, r.rate, quick ? 2 : 5, headers(s)));
    console.error(`P4 ${s.name}: p50 ${r.p4.get(s.id)!.p50.toFixed(3)} ms at ${r.rate} req/s`);
  }

  // P5: revocation latency: 200 live connections of bob, then Sales leaves Outlook-Remote.
  const bobs = await Promise.all(
    Array.from({ length: 200 }, () => new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: PORTS.portcullisPolicy, rejectUnauthorized: false }, () => s.write(`POST /mapi/emsmdb/ HTTP/1.1\r\nHost: bench\r\nAuthorization: ${BASIC}\r\nContent-Length: 0\r\n\r\n`));
      s.once('data', () => resolve(s));
      s.once('error', reject);
    })),
  );
  const closed = bobs.map((s) => new Promise<number>((res) => s.once('close', () => res(performance.now()))));
  const t0 = performance.now();
  writeFileSync(directory, readFileSync(directory, 'utf8').replace('members: [Sales]', 'members: []'));
  r.p5 = Math.max(...(await Promise.all(closed))) - t0;
  console.error(`P5 revocation: ${r.p5.toFixed(0)} ms for 200 connections`);

  // P3: memory of idle connections. The proxies under load are stopped first so only the
  // measured process holds memory; Portcullis holds all 20,000 pairs in three workers (one
  // process may hold 20,000 descriptors here; a pair needs two), the clients come from two
  // children for the same reason. HAProxy and nginx hold PEER_CONNS each (their limit here).
  for (const s of ['pc1', 'pc2', 'pc2policy', 'pc2noaudit'] as const) process.kill(pids.get(s)!, 'SIGTERM');
  const [floorCmd, ...floorArgs] = rt.script(path.join(ROOT, 'bench/tls-echo.ts'), [String(PORTS.portcullis), pki.cert, pki.key]);
  const floor = start(floorCmd!, floorArgs, DIR, `${rt.isNode ? 'node' : rt.id} tls floor`);
  procs.push(floor);
  const mem = startPortcullis(ROOT, pcConf('portcullis-memory.yaml', false, PORTS.portcullisMemory, 3), DIR, 'portcullis (memory)');
  procs.push(mem);
  await waitPort(PORTS.portcullis);
  await waitPort(PORTS.portcullisMemory);
  await sleep(2000);
  const p3Targets: Array<[string, number, number, number]> = [
    ['haproxy', PORTS.haproxy, pids.get('haproxy')!, PEER_CONNS],
    ['nginx', PORTS.nginx, pids.get('nginx')!, PEER_CONNS],
    ['floor', PORTS.portcullis, floor.pid!, PEER_CONNS],
    ['pc3', PORTS.portcullisMemory, mem.pid!, PAIRS],
  ];
  for (const [id, port, pid, n] of p3Targets) {
    const before = rssTree(pid);
    const close = n > 9000 ? await idleFromChildren(port, n, 2) : await idleConnections(port, n, {});
    await sleep(3000);
    const after = rssTree(pid);
    close();
    r.p3.set(id, { before, after, n });
    console.error(`P3 ${id}: ${((after - before) / n / 1024).toFixed(1)} KiB per connection, ${((after - before) / 2 ** 30).toFixed(2)} GiB for ${n}`);
    await sleep(3000);
  }

  cleanup();
  if (runtimeId) {
    writeRuntimeRow(r, rt, path.join(ROOT, 'docs/benchmarks.md'));
    console.error(`wrote the ${rt.label} row of the Runtimes table in docs/benchmarks.md`);
    return;
  }
  // Where the time goes: P1 against one Portcullis process under the V8 profiler.
  await sleep(1500);
  r.profile = await profileP1(quick ? 3 : 8);
  console.error(`profile: ${r.profile.file}`);
  // P6, the login storm against Samba AD (issue #18): its own step, also `npm run bench:storm`.
  if (!process.argv.includes('--no-storm')) {
    const before = process.argv.indexOf('--storm-before');
    r.storm = await runStorm({ quick, ...(before > 0 ? { beforeRoot: process.argv[before + 1]! } : {}) });
  }
  // P7, reloads and memory with large directories (issue #18): file rows, then the LDAP cache.
  if (!process.argv.includes('--no-reload')) {
    const reload = await runReloadBench({ rounds: quick ? 1 : 3 });
    const ldap = process.argv.includes('--no-ldap-cache') ? undefined : await runLdapCacheBench({ users: quick ? 5_000 : 50_000, rounds: quick ? 1 : 3 });
    r.reload = { reload, ldap };
  }
  writeReport(r, path.join(ROOT, 'docs/benchmarks.md'), rt);
  console.error('wrote docs/benchmarks.md');
}

main().then(
  () => {
    cleanup();
    process.exit(0);
  },
  (e: Error) => {
    console.error(`bench failed: ${e.stack ?? e.message}`);
    cleanup();
    process.exit(1);
  },
);
