// The Node 24/26 streaming regression without any Portcullis code: 1 GiB through a bare TLS relay
// (client -> relay -> sink, socket.pipe only, one process) next to a live heap the size of the test
// process (about 30 MB). Run it with and without the gateway V8 flags on each node, with
// --trace-gc to count collections:
//   node --expose-gc --trace-gc --import tsx bench/tls-relay-gc.ts | grep -c Mark-Compact
//   node --max-semi-space-size=1 --initial-old-space-size=64 --expose-gc --trace-gc --import tsx bench/tls-relay-gc.ts
// Figures: docs/benchmarks.md, "Runtimes"; ARCHITECTURE.md, "Runtime".
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { createCa, issueServerCert } from '../src/lab/certs.js';

const GiB = 1024 ** 3;
const ca = await createCa('relay');
const { cert, key } = await issueServerCert(ca, { names: ['localhost'], ips: ['127.0.0.1'] });
// What the test process holds alive besides the streams (tsx, the test runner, gateway and lab).
(globalThis as { keep?: unknown }).keep = Array.from({ length: 400_000 }, (_, i) => ({ i, s: `x${i}` }));

let got = 0;
let done!: () => void;
const finished = new Promise<void>((r) => (done = r));
const sink = tls.createServer({ cert, key }, (s) => s.on('data', (b: Buffer) => (got += b.length) >= GiB && done()));
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
const relay = tls.createServer({ cert, key }, (c) => {
  const u = tls.connect({ port: (sink.address() as AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false });
  c.pipe(u);
  u.pipe(c);
});
await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
const c = tls.connect({ port: (relay.address() as AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false });
await new Promise((r) => c.once('secureConnect', r));

global.gc?.();
const rss0 = process.memoryUsage().rss;
let peak = rss0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const block = Buffer.alloc(1024 * 1024, 7);
for (let left = GiB; left > 0; left -= block.length) if (!c.write(block)) await new Promise((r) => c.once('drain', r));
await finished;
const s = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
clearInterval(sampler);
console.log(`${process.version} [${process.execArgv.filter((a) => a.startsWith('--max') || a.startsWith('--initial')).join(' ')}]: ${(GiB / s / 2 ** 20).toFixed(0)} MiB/s, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} CPU s, RSS growth ${((peak - rss0) / 2 ** 20).toFixed(0)} MiB`);
process.exit(0);
