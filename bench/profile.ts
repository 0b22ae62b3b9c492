// npm run bench:profile: the P1 load (wrk, small keep-alive POSTs) against one Portcullis started
// with --cpu-prof, then the hottest functions by self time. The .cpuprofile opens in Chrome
// DevTools or speedscope as a flame graph; the summary is what docs/benchmarks.md quotes.
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createCa, issueServerCert } from '../src/lab/certs.js';
import { waitPort, wrk } from './measure.js';
import { PORTS, haproxyConf, portcullisConf, start, startPortcullis, upstreamConf, writeConf } from './peers.js';

const ROOT = new URL('..', import.meta.url).pathname;
const DIR = '/tmp/pcprofile';
const seconds = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 10);
// --haproxy: the same load against HAProxy too, for a ratio without running the whole bench.
const withHaproxy = process.argv.includes('--haproxy');

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function (and per file) from a V8 .cpuprofile. */
export function summarise(profile: Profile, top = 25): string {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const n of profile.nodes) {
    const t = self.get(n.id) ?? 0;
    const file = n.callFrame.url.replace(/^file:\/\//, '').replace(ROOT, '') || '(native)';
    const key = `${n.callFrame.functionName || '(anonymous)'} ${file}:${n.callFrame.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + t);
    const area = /node_modules\/([^/]+)/.exec(file)?.[1] ?? (file.startsWith('src/') ? file.split('/').slice(0, 2).join('/') : file.startsWith('node:') ? 'node core' : file);
    byFile.set(area, (byFile.get(area) ?? 0) + t);
  }
  const pct = (t: number) => `${((100 * t) / total).toFixed(1)}%`;
  const rows = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, t]) => `| ${pct(t)} | \`${k}\` |`);
  return ['| self | area |', '|---|---|', ...rows(byFile, 12), '', '| self | function |', '|---|---|', ...rows(byFn, top)].join('\n');
}

/** P1 against one Portcullis process under --cpu-prof; the summary is markdown. */
export async function profileP1(seconds: number, withHaproxy = false): Promise<{ rps: number; haproxyRps?: number; file: string; summary: string }> {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(path.join(DIR, 'prof'), { recursive: true });
  mkdirSync('/dev/shm/pcbench', { recursive: true });
  closeSync(openSync(path.join(DIR, '1g.bin'), 'w'));
  const ca = await createCa('Portcullis Profile CA');
  const leaf = await issueServerCert(ca, { names: ['localhost'], ips: ['127.0.0.1'] });
  const f = (n: string, s: string) => (writeFileSync(path.join(DIR, n), s), path.join(DIR, n));
  const pki = { ca: f('ca.crt', ca.cert), cert: f('leaf.crt', leaf.cert + ca.cert), key: f('leaf.key', leaf.key), pem: f('leaf.pem', leaf.cert + ca.cert + leaf.key) };
  const up = start('nginx', ['-p', DIR, '-c', writeConf(DIR, 'upstream.conf', upstreamConf(DIR, pki))], DIR, 'upstream nginx');
  const hap = withHaproxy ? start('haproxy', ['-f', writeConf(DIR, 'haproxy.cfg', haproxyConf(DIR, pki)), '-db'], DIR, 'haproxy') : undefined;
  const conf = writeConf(DIR, 'portcullis.yaml', portcullisConf(DIR, pki, false, ''));
  const pc = startPortcullis(ROOT, conf, DIR, 'portcullis', ['--cpu-prof', '--cpu-prof-dir', path.join(DIR, 'prof')]);
  let rps = 0;
  let haproxyRps: number | undefined;
  try {
    await waitPort(PORTS.upstream);
    await waitPort(PORTS.portcullis);
    await wrk(`https://127.0.0.1:${PORTS.portcullis}/mapi/emsmdb/`, DIR, {}, 2, 20);
    const r = await wrk(`https://127.0.0.1:${PORTS.portcullis}/mapi/emsmdb/`, DIR, {}, seconds, 50);
    rps = r.rps;
    if (hap) {
      await waitPort(PORTS.haproxy);
      await wrk(`https://127.0.0.1:${PORTS.haproxy}/mapi/emsmdb/`, DIR, {}, 2, 20);
      const h = await wrk(`https://127.0.0.1:${PORTS.haproxy}/mapi/emsmdb/`, DIR, {}, seconds, 50);
      haproxyRps = h.rps;
    }
  } finally {
    const exited = new Promise((r) => pc.once('exit', r));
    pc.kill('SIGTERM');
    await exited;
    up.kill('SIGTERM');
    hap?.kill('SIGTERM');
  }
  const file = readdirSync(path.join(DIR, 'prof')).find((n) => n.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  const out = path.join(DIR, 'prof', file);
  return { rps, ...(haproxyRps ? { haproxyRps } : {}), file: out, summary: summarise(JSON.parse(readFileSync(out, 'utf8')) as Profile) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await profileP1(seconds, withHaproxy);
  console.log(`P1 under the profiler: ${r.rps.toFixed(0)} req/s${r.haproxyRps ? `; HAProxy ${r.haproxyRps.toFixed(0)} req/s (${(r.rps / r.haproxyRps).toFixed(2)}×)` : ''}`);
  console.log(`profile (open in Chrome DevTools or speedscope): ${r.file}\n`);
  console.log(r.summary);
}
