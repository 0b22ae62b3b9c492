// Per-pair memory of idle pinned pairs for one or more source trees, side by side: what P3 measures,
// on fewer pairs and one process, to find which change moved it (`node --import tsx
// bench/p3-probe.ts PAIRS ROOT...`; each ROOT a checkout with its node_modules).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCa, issueServerCert } from '../src/lab/certs.js';
import { idleConnections, rssTree, waitPort } from './measure.js';
import { PORTS, portcullisConf, start, startPortcullis, upstreamConf, writeConf } from './peers.js';

const DIR = '/tmp/pcbench-p3probe';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pairs = Number(process.argv[2] ?? 3000);
const roots = process.argv.slice(3);
rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
const ca = await createCa('P3 probe CA');
const leaf = await issueServerCert(ca, { names: ['localhost'], ips: ['127.0.0.1'] });
const f = (n: string, s: string) => (writeFileSync(path.join(DIR, n), s), path.join(DIR, n));
const pki = { ca: f('ca.crt', ca.cert), cert: f('leaf.crt', leaf.cert + ca.cert), key: f('leaf.key', leaf.key), pem: f('leaf.pem', leaf.cert + ca.cert + leaf.key) };
const upstream = start('nginx', ['-p', DIR, '-c', writeConf(DIR, 'upstream.conf', upstreamConf(DIR, pki))], DIR, 'upstream nginx');
await waitPort(PORTS.upstream);
try {
  for (const audit of [false, true]) {
    for (const root of audit ? roots.slice(0, 1) : roots) {
      // A tree from before the audit trail knows no audit: key.
      const text = portcullisConf(DIR, pki, false, '', PORTS.portcullisMemory, 1, audit);
      const conf = writeConf(DIR, `pc-${audit}.yaml`, root === roots[0] ? text : text.replace(/^audit:.*$/m, ''));
      const p = startPortcullis(root, conf, DIR, 'probe');
      await waitPort(PORTS.portcullisMemory, 60_000);
      await sleep(1500);
      const before = rssTree(p.pid!);
      const close = await idleConnections(PORTS.portcullisMemory, pairs, {});
      await sleep(3000);
      const after = rssTree(p.pid!);
      close();
      console.log(`${root} audit ${audit ? 'on' : 'off'}: ${((after - before) / pairs / 1024).toFixed(1)} KiB per pair (${(before / 2 ** 20).toFixed(0)} -> ${(after / 2 ** 20).toFixed(0)} MiB)`);
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
      await sleep(500);
    }
  }
} finally {
  upstream.kill('SIGTERM');
}
