// npm run bench: Portcullis beside HAProxy and nginx, same upstream, same machine, one run.
// Writes docs/benchmarks.md (numbers, ratios, versions, configs, method).
import { type ChildProcess, execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { createCa, issueServerCert } from '../src/lab/certs.js';
import { type WrkResult, curlSpeed, fixedRate, idleConnections, rssTree, version, waitPort, wrk } from './measure.js';
import { PORTS, haproxyConf, nginxProxyConf, portcullisConf, start, upstreamConf, writeConf } from './peers.js';

const ROOT = new URL('..', import.meta.url).pathname;
const DIR = '/tmp/pcbench';
const GiB = 1024 ** 3;
const BASIC = `Basic ${Buffer.from('LAB\\bob:Passw0rd!').toString('base64')}`;
const quick = process.argv.includes('--quick');
const SECONDS = quick ? 3 : 10;
const PAIRS = quick ? 1000 : 9000;

const procs: ChildProcess[] = [];
function cleanup(): void {
  for (const p of procs) p.kill('SIGTERM');
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

async function main(): Promise<void> {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  mkdirSync('/dev/shm/pcbench', { recursive: true, mode: 0o777 });
  execFileSync('chmod', ['777', '/dev/shm/pcbench']); // nginx workers run as nobody
  const big = path.join(DIR, '1g.bin');
  const fd = openSync(big, 'w');
  closeSync(fd);
  execFileSync('truncate', ['-s', String(GiB), big]);

  const ca = await createCa('Portcullis Bench CA');
  const leaf = await issueServerCert(ca, { names: ['localhost'], ips: ['127.0.0.1'] });
  const f = (n: string, s: string) => (writeFileSync(path.join(DIR, n), s), path.join(DIR, n));
  const pki = { ca: f('ca.crt', ca.cert), cert: f('leaf.crt', leaf.cert + ca.cert), key: f('leaf.key', leaf.key), pem: f('leaf.pem', leaf.cert + ca.cert + leaf.key) };
  const directory = path.join(DIR, 'directory.yaml');
  copyFileSync(path.join(ROOT, 'examples/demo/directory.yaml'), directory);

  const up = start('nginx', ['-p', DIR, '-c', writeConf(DIR, 'upstream.conf', upstreamConf(DIR, pki))], DIR, 'upstream nginx');
  const hap = start('haproxy', ['-f', writeConf(DIR, 'haproxy.cfg', haproxyConf(DIR, pki)), '-db'], DIR, 'haproxy');
  const ngx = start('nginx', ['-p', DIR, '-c', writeConf(DIR, 'nginx-proxy.conf', nginxProxyConf(DIR, pki))], DIR, 'nginx proxy');
  const pc = start(process.execPath, [path.join(ROOT, 'bin/portcullis.js'), 'serve', '-c', writeConf(DIR, 'portcullis.yaml', portcullisConf(DIR, pki, false, directory))], DIR, 'portcullis');
  const pcp = start(process.execPath, [path.join(ROOT, 'bin/portcullis.js'), 'serve', '-c', writeConf(DIR, 'portcullis-policy.yaml', portcullisConf(DIR, pki, true, directory))], DIR, 'portcullis (policy)');
  procs.push(up, hap, ngx, pc, pcp);
  for (const p of Object.values(PORTS)) await waitPort(p);
  console.error('all peers listening');

  const targets: Array<[string, number, Record<string, string>]> = [
    ['direct (upstream nginx)', PORTS.upstream, {}],
    ['HAProxy', PORTS.haproxy, {}],
    ['nginx', PORTS.nginx, {}],
    ['Portcullis (identity + policy off)', PORTS.portcullis, {}],
    ['Portcullis (identity + policy on, Basic per request)', PORTS.portcullisPolicy, { Authorization: BASIC }],
  ];
  const url = (port: number, p: string) => `https://127.0.0.1:${port}${p}`;

  // P1: small keep-alive POSTs.
  const p1 = new Map<string, WrkResult>();
  for (const [name, port, headers] of targets) {
    await wrk(url(port, '/mapi/emsmdb/'), DIR, headers, 2, 20).catch(() => undefined); // warm-up
    p1.set(name, await wrk(url(port, '/mapi/emsmdb/'), DIR, headers, SECONDS, 50));
    console.error(`P1 ${name}: ${p1.get(name)!.rps.toFixed(0)} req/s`);
  }

  // P2: 1 GiB each way.
  const p2 = new Map<string, { down: number; up: number }>();
  for (const [name, port, headers] of targets.slice(0, 4)) {
    void headers;
    const down = await curlSpeed(url(port, '/big'));
    const upl = await curlSpeed(url(port, `/sink/${name.length}-${Date.now()}`), big);
    p2.set(name, { down, up: upl });
    console.error(`P2 ${name}: down ${(down / 2 ** 20).toFixed(0)} MiB/s, up ${(upl / 2 ** 20).toFixed(0)} MiB/s`);
  }

  // P4: latency added at half of Portcullis' peak, the same rate for every target.
  const rate = Math.max(100, Math.floor(p1.get('Portcullis (identity + policy off)')!.rps / 2));
  const p4 = new Map<string, { p50: number; p99: number }>();
  for (const [name, port, headers] of targets) {
    p4.set(name, await fixedRate(port, rate, quick ? 2 : 5, headers));
    console.error(`P4 ${name}: p50 ${p4.get(name)!.p50.toFixed(3)} ms at ${rate} req/s`);
  }

  // P3: memory for idle pinned pairs (as many as this sandbox's 20,000-descriptor limit allows).
  const p3 = new Map<string, { before: number; after: number }>();
  for (const [name, port, proc] of [['HAProxy', PORTS.haproxy, hap], ['nginx', PORTS.nginx, ngx], ['Portcullis (identity + policy off)', PORTS.portcullis, pc]] as const) {
    global.gc?.();
    const before = rssTree(proc.pid!);
    const close = await idleConnections(port, PAIRS, {});
    await new Promise((r) => setTimeout(r, 2000));
    const after = rssTree(proc.pid!);
    close();
    p3.set(name, { before, after });
    console.error(`P3 ${name}: ${((after - before) / PAIRS / 1024).toFixed(1)} KiB per connection`);
    await new Promise((r) => setTimeout(r, 2000));
  }

  // P5: revocation latency: 200 live connections of bob, then Sales leaves Outlook-Remote.
  const bobs = await Promise.all(
    Array.from({ length: 200 }, () => new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: PORTS.portcullisPolicy, rejectUnauthorized: false }, () => s.write(`POST /mapi/emsmdb/ HTTP/1.1\r\nHost: bench\r\nAuthorization: ${BASIC}\r\nContent-Length: 0\r\n\r\n`));
      s.once('data', () => resolve(s));
      s.once('error', reject);
    })),
  );
  const closed = bobs.map((s) => new Promise<number>((r) => s.once('close', () => r(performance.now()))));
  const t0 = performance.now();
  writeFileSync(directory, readFileSync(directory, 'utf8').replace('members: [Sales]', 'members: []'));
  const last = Math.max(...(await Promise.all(closed)));
  const p5 = last - t0;
  console.error(`P5 revocation: ${p5.toFixed(0)} ms for 200 connections`);

  writeReport({ p1, p2, p3, p4, p5, rate });
}

function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
}

function writeReport(r: {
  p1: Map<string, WrkResult>;
  p2: Map<string, { down: number; up: number }>;
  p3: Map<string, { before: number; after: number }>;
  p4: Map<string, { p50: number; p99: number }>;
  p5: number;
  rate: number;
}): void {
  const hap = r.p1.get('HAProxy')!;
  const ngx = r.p1.get('nginx')!;
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  const direct = r.p4.get('direct (upstream nginx)')!.p50;
  const lines = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` on ${new Date().toISOString()} (${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.cpus()[0]?.model ?? ''}).`,
    `Versions: Node ${process.version}; ${version('haproxy', ['-v'])}; ${version('nginx', ['-v'])}; ${version('wrk', ['-v'])}.`,
    '',
    'Every proxy terminates TLS (ECDSA P-256 certificate) and forwards over TLS to the same upstream, an nginx that answers fixed 1 KiB bodies and serves a 1 GiB file; the load generator runs on the same 2 cores. Portcullis runs as one Node.js process (one core); HAProxy and nginx use both cores. Configurations: `bench/peers.ts`.',
    '',
    '## P1: small keep-alive POSTs (1 KiB body, 1 KiB answer)',
    '',
    `wrk -t2 -c50 -d${SECONDS}s --latency, POST /mapi/emsmdb/.`,
    '',
    '| setup | requests/s | p50 | p99 | vs HAProxy | vs nginx |',
    '|---|---|---|---|---|---|',
    ...[...r.p1].map(([n, v]) => `| ${n} | ${v.rps.toFixed(0)} | ${v.p50ms.toFixed(2)} ms | ${v.p99ms.toFixed(2)} ms | ${ratio(v.rps, hap.rps)} | ${ratio(v.rps, ngx.rps)} |`),
    '',
    '## P2: streaming 1 GiB each way',
    '',
    'curl, one transfer: GET of a 1 GiB answer (RPC_OUT_DATA-like) and PUT of a 1 GiB body (RPC_IN_DATA-like), no buffering in any proxy.',
    '',
    '| setup | download MiB/s | upload MiB/s | download vs HAProxy | upload vs HAProxy |',
    '|---|---|---|---|---|',
    ...[...r.p2].map(([n, v]) => `| ${n} | ${mib(v.down)} | ${mib(v.up)} | ${ratio(v.down, r.p2.get('HAProxy')!.down)} | ${ratio(v.up, r.p2.get('HAProxy')!.up)} |`),
    '',
    `## P3: memory of idle connections (${PAIRS} clients, each with one request answered)`,
    '',
    `This sandbox caps open files at 20,000 per process (the hard limit cannot be raised here), and a pinned pair costs Portcullis two descriptors, so ${PAIRS} pairs were held instead of 20,000; the last column extrapolates linearly. HAProxy and nginx pool their upstream connections, so for them this is memory per client connection, not per pinned pair.`,
    '',
    '| setup | RSS before | RSS after | per connection | extrapolated to 20,000 |',
    '|---|---|---|---|---|',
    ...[...r.p3].map(([n, v]) => {
      const per = (v.after - v.before) / PAIRS;
      return `| ${n} | ${mib(v.before)} MiB | ${mib(v.after)} MiB | ${(per / 1024).toFixed(1)} KiB | ${((per * 20000) / 2 ** 30).toFixed(2)} GiB |`;
    }),
    '',
    `## P4: latency added over going direct, at ${r.rate} requests/s (half of Portcullis' P1 peak)`,
    '',
    'A fixed-rate Node client over 20 keep-alive connections; p50 and p99 of each request\'s round trip.',
    '',
    '| setup | p50 | p99 | p50 added over direct |',
    '|---|---|---|---|',
    ...[...r.p4].map(([n, v]) => `| ${n} | ${v.p50.toFixed(3)} ms | ${v.p99.toFixed(3)} ms | ${(v.p50 - direct).toFixed(3)} ms |`),
    '',
    '## P5: revocation latency',
    '',
    `200 live connections of bob (Basic, identity bound); the directory file is rewritten so that Sales leaves Outlook-Remote. From the write to the last connection closed: **${r.p5.toFixed(0)} ms** (watcher debounce 150 ms included).`,
    '',
    '## Targets',
    '',
    `| target | measured | met |`,
    `|---|---|---|`,
    `| P1 ≥ 0.8× HAProxy requests/s | ${ratio(r.p1.get('Portcullis (identity + policy off)')!.rps, hap.rps)} (policy on: ${ratio(r.p1.get('Portcullis (identity + policy on, Basic per request)')!.rps, hap.rps)}) | ${r.p1.get('Portcullis (identity + policy off)')!.rps >= 0.8 * hap.rps ? 'yes' : 'no'} |`,
    `| P2 ≥ 0.95× HAProxy | down ${ratio(r.p2.get('Portcullis (identity + policy off)')!.down, r.p2.get('HAProxy')!.down)}, up ${ratio(r.p2.get('Portcullis (identity + policy off)')!.up, r.p2.get('HAProxy')!.up)} | ${r.p2.get('Portcullis (identity + policy off)')!.down >= 0.95 * r.p2.get('HAProxy')!.down && r.p2.get('Portcullis (identity + policy off)')!.up >= 0.95 * r.p2.get('HAProxy')!.up ? 'yes' : 'no'} |`,
    `| P3 ≤ 1 GiB for 20,000 pairs | ${(((r.p3.get('Portcullis (identity + policy off)')!.after - r.p3.get('Portcullis (identity + policy off)')!.before) / PAIRS) * 20000 / 2 ** 30).toFixed(2)} GiB (extrapolated) | ${((r.p3.get('Portcullis (identity + policy off)')!.after - r.p3.get('Portcullis (identity + policy off)')!.before) / PAIRS) * 20000 <= 2 ** 30 ? 'yes (extrapolated)' : 'no'} |`,
    `| P4 ≤ 1 ms added | ${(r.p4.get('Portcullis (identity + policy off)')!.p50 - direct).toFixed(3)} ms | ${r.p4.get('Portcullis (identity + policy off)')!.p50 - direct <= 1 ? 'yes' : 'no'} |`,
    `| P5 ≤ 1 s | ${r.p5.toFixed(0)} ms | ${r.p5 <= 1000 ? 'yes' : 'no'} |`,
    '',
  ];
  writeFileSync(path.join(ROOT, 'docs/benchmarks.md'), lines.join('\n'));
  console.error('wrote docs/benchmarks.md');
}

main().then(
  () => {
    cleanup();
    process.exit(0);
  },
  (e: Error) => {
    console.error(`bench failed: ${e.message}`);
    cleanup();
    process.exit(1);
  },
);
