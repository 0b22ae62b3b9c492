// Measuring tools: wrk for request rates, curl for bulk transfers, a small Node client for idle
// pinned connections and fixed-rate latency (no tool models those), /proc for memory.
import { execFile, fork, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function waitPort(port: number, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not open`);
}

export interface WrkResult {
  readonly rps: number;
  /** Answers that were not 2xx/3xx (wrk still counts them in requests/s). */
  readonly errors: number;
  readonly p50ms: number;
  readonly p99ms: number;
}

function ms(v: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(v);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
}

export async function wrk(url: string, dir: string, headers: Record<string, string>, seconds = 10, connections = 50): Promise<WrkResult> {
  const script = `${dir}/post.lua`;
  writeFileSync(script, `wrk.method = "POST"\nwrk.body = string.rep("x", 1024)\nwrk.headers["Content-Type"] = "application/mapi-http"\n${Object.entries(headers).map(([k, v]) => `wrk.headers["${k}"] = "${v.replace(/\\/g, '\\\\')}"`).join('\n')}\n`);
  const { stdout } = await run('wrk', ['-t2', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], { timeout: (seconds + 30) * 1000 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1];
  if (non2xx) console.error(`wrk saw ${non2xx} non-2xx answers from ${url} (reported in the table)`);
  // Anchored: "67.50%" in the Req/Sec line must not be read as the 50th percentile.
  return { rps, errors: Number(non2xx ?? 0), p50ms: ms(/^\s+50%\s+(\S+)/m.exec(stdout)?.[1] ?? ''), p99ms: ms(/^\s+99%\s+(\S+)/m.exec(stdout)?.[1] ?? '') };
}

/** Bytes per second of one transfer through curl (download with GET, upload with PUT of a file). */
export async function curlSpeed(url: string, upload?: string): Promise<number> {
  const args = ['-sk', '-o', '/dev/null', '--http1.1', '-w', upload ? '%{speed_upload} %{http_code}' : '%{speed_download} %{http_code}'];
  if (upload) args.push('-T', upload);
  const { stdout } = await run('curl', [...args, url], { timeout: 300_000, maxBuffer: 1024 * 1024 });
  const [speed, code] = stdout.trim().split(' ');
  if (!/^2/.test(code ?? '')) throw new Error(`curl ${url}: HTTP ${code}`);
  return Number(speed);
}

/** A process and all its descendants (nginx and HAProxy fork workers, Portcullis its workers). */
function treeOf(pid: number): number[] {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(kids.get(p) ?? []));
  }
  return out;
}

/** RSS in bytes of a process and all its descendants. */
export function rssTree(pid: number): number {
  let total = 0;
  for (const p of treeOf(pid)) {
    try {
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch {
      /* gone */
    }
  }
  return total;
}

/** Opens n TLS connections, sends one request on each, keeps them idle; returns a closer. */
export async function idleConnections(port: number, n: number, headers: Record<string, string>): Promise<() => void> {
  const sockets: tls.TLSSocket[] = [];
  const req = `POST /mapi/emsmdb/ HTTP/1.1\r\nHost: bench\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Content-Length: 4\r\n\r\nabcd`;
  const batch = 200;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, () =>
        new Promise<void>((resolve, reject) => {
          const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => s.write(req));
          s.once('data', () => resolve());
          s.once('error', reject);
          s.setTimeout(30_000, () => reject(new Error('idle pair setup timed out')));
          sockets.push(s);
        }),
      ),
    );
  }
  for (const s of sockets) s.setTimeout(0);
  return () => sockets.forEach((s) => s.destroy());
}

/** Latency at a fixed request rate over keep-alive connections (p50, p99 in ms). */
export async function fixedRate(port: number, rate: number, seconds: number, headers: Record<string, string>): Promise<{ p50: number; p99: number; sent: number }> {
  const conns = 20;
  const req = Buffer.from(`POST /mapi/emsmdb/ HTTP/1.1\r\nHost: bench\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Content-Type: application/mapi-http\r\nContent-Length: 1024\r\n\r\n${'x'.repeat(1024)}`);
  const lat: number[] = [];
  const pool = await Promise.all(
    Array.from({ length: conns }, () => new Promise<{ s: tls.TLSSocket; busy: boolean; t0: bigint; buf: string }>((resolve) => {
      const c = { s: tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => resolve(c)), busy: false, t0: 0n, buf: '' };
      c.s.on('data', (d: Buffer) => {
        c.buf += d.toString('latin1');
        const end = c.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const cl = Number(/content-length: (\d+)/i.exec(c.buf.slice(0, end))?.[1] ?? '0');
        if (c.buf.length < end + 4 + cl) return;
        c.buf = c.buf.slice(end + 4 + cl);
        lat.push(Number(process.hrtime.bigint() - c.t0) / 1e6);
        c.busy = false;
      });
    })),
  );
  let sent = 0;
  const interval = 1000 / rate;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor((performance.now() - t0) / interval);
    while (sent < due) {
      const c = pool.find((x) => !x.busy);
      if (!c) break;
      c.busy = true;
      c.t0 = process.hrtime.bigint();
      c.s.write(req);
      sent++;
    }
    // 1 ms ticks, not a busy loop: a spinning client would take a core from the proxy it measures.
    await new Promise((r) => setTimeout(r, 1));
  }
  await new Promise((r) => setTimeout(r, 500));
  pool.forEach((c) => c.s.destroy());
  lat.sort((a, b) => a - b);
  return { p50: lat[Math.floor(lat.length * 0.5)] ?? NaN, p99: lat[Math.floor(lat.length * 0.99)] ?? NaN, sent };
}

export function version(cmd: string, args: string[]): string {
  // nginx -v and some others print their version on stderr.
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => l.trim())?.trim() ?? `${cmd}: not found`;
}

/** CPU seconds (user + system) used so far by a process and its descendants. */
export function cpuTree(pid: number): number {
  let ticks = 0;
  for (const p of treeOf(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    } catch {
      /* gone */
    }
  }
  return ticks / 100;
}

/** Holds n idle connections from `children` forked processes (each within its descriptor limit). */
export async function idleFromChildren(port: number, n: number, children: number): Promise<() => void> {
  const kids = Array.from({ length: children }, (_, i) =>
    fork(new URL('./idle-client.ts', import.meta.url).pathname, [String(port), String(Math.floor(n / children) + (i < n % children ? 1 : 0))], { execArgv: ['--import', 'tsx'] }),
  );
  await Promise.all(
    kids.map(
      (k) =>
        new Promise<void>((resolve, reject) => {
          k.once('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(`idle client: ${m.error}`))));
          k.once('exit', (code) => reject(new Error(`idle client exited ${code}`)));
        }),
    ),
  );
  return () => kids.forEach((k) => k.kill('SIGKILL'));
}
