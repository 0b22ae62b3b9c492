// `npm run bench:reload` (issue #18): what a reload costs the connections it serves, and what a
// directory costs in memory, for a file directory of 1 / 5,000 / 20,000 / 50,000 users in 200
// groups nested up to 8 levels, and for a policy of 1,000 rules. For each row: `portcullis serve`
// (workers: 1) in front of the lab Exchange, one keep-alive client sending a small EWS POST every
// 20 ms with Basic credentials of a directory user (so identity and policy run on every request),
// SIGHUP 4 s after the gateway listens, then an edit of the directory file (the watcher's reload).
// Prints a Markdown table for docs/benchmarks.md; `npm run bench:reload -- --rounds=3` for medians,
// sizes as arguments (`-- 50000`) for single rows. test/reload-stall.test.ts uses the same
// generator and measurement.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { labOptions } from '../src/cli/lab-defaults.js';
import { GATEWAY_V8_FLAGS } from '../src/cli/serve-primary.js';
import { loadDirectoryFile } from '../src/directory/file-directory.js';
import { RawClient } from '../src/doctor/http-probe.js';
import { createCa, issueServerCert } from '../src/lab/certs.js';
import { type Lab, startLab } from '../src/lab/lab-server.js';

const BIN = new URL('../bin/portcullis.js', import.meta.url).pathname;
export const GROUPS = 200;
/** Levels of nesting: chains of 8 groups, each chain's head nested in Outlook-Remote. */
export const NEST = 8;
export const PASSWORD = 'Passw0rd!';
/** The client's user: in the deepest group of the first chain (8 levels below Outlook-Remote). */
export const CLIENT_USER = 'u000007';
const pad = (n: number, w: number) => String(n).padStart(w, '0');
const groupName = (g: number) => `G-${pad(g, 3)}`;
const userName = (i: number) => `u${pad(i, 6)}`;

/**
 * A directory of `users` users (each directly in one of 200 groups, G-000…G-199; with fewer than
 * 8, the client's user is added) and the groups in chains of NEST: G-000 ⊃ G-001 ⊃ … ⊃ G-007, the
 * chain heads in Outlook-Remote. Only the client's user has a password (the lab checks it).
 * `variant` moves user 0 to another group, which is the edit the watcher sees.
 */
export function directoryYaml(users: number, variant = 0): string {
  const heads = Array.from({ length: GROUPS / NEST }, (_, c) => groupName(c * NEST));
  const out = [`domains:\n  netbios: [LAB]\n  upnSuffixes: [lab.example]\ngroups:\n  - name: Outlook-Remote\n    members: [${heads.join(', ')}]\n`];
  for (let g = 0; g < GROUPS; g++) out.push(g % NEST === NEST - 1 ? `  - name: ${groupName(g)}\n` : `  - name: ${groupName(g)}\n    members: [${groupName(g + 1)}]\n`);
  out.push('users:\n');
  for (let i = 0; i < users; i++) {
    const s = userName(i);
    const g = i === 0 ? variant % GROUPS : i % GROUPS;
    out.push(`  - sAMAccountName: ${s}\n    domain: LAB\n    userPrincipalName: ${s}@lab.example\n    mail: ${s}@lab.example\n    groups: [${groupName(g)}]\n${s === CLIENT_USER ? `    password: ${PASSWORD}\n` : ''}`);
  }
  if (users <= 7) out.push(`  - sAMAccountName: ${CLIENT_USER}\n    domain: LAB\n    userPrincipalName: ${CLIENT_USER}@lab.example\n    mail: ${CLIENT_USER}@lab.example\n    groups: [G-007]\n    password: ${PASSWORD}\n`);
  return out.join('');
}

/**
 * The policy: Outlook-Remote may use Outlook protocols from outside, plus `extra` rules that every
 * request walks (deny rules naming other users, allow rules naming groups, some by client range).
 */
export function policyYaml(extra = 0): string {
  const rules = ['    - { name: outlook-remote, effect: allow, zones: [external], protocols: [autodiscover, mapi, rpc, ews, oab, owa], groups: [Outlook-Remote] }'];
  for (let i = 0; i < extra; i++) {
    if (i % 3 === 0) rules.push(`    - { name: deny-${i}, effect: deny, protocols: [owa, ews], users: ['LAB\\x${pad(i, 5)}', 'x${pad(i, 5)}@lab.example'] }`);
    else if (i % 3 === 1) rules.push(`    - { name: allow-${i}, effect: allow, zones: [external], protocols: [mapi, eas], groups: [${groupName(i % GROUPS)}, Team-${i}] }`);
    else rules.push(`    - { name: range-${i}, effect: deny, protocols: [powershell], groups: [Team-${i}], clientCidrs: [10.${i % 250}.0.0/16] }`);
  }
  return `policy:\n  defaults: { external: deny, internal: allow }\n  rules:\n${rules.join('\n')}\n`;
}

export interface Pki {
  readonly ca: string;
  readonly caFile: string;
  readonly cert: string;
  readonly key: string;
}

export async function makePki(dir: string): Promise<Pki> {
  const ca = await createCa('Portcullis Reload Bench CA');
  const gw = await issueServerCert(ca, { names: ['mail.lab.example', 'localhost'], ips: ['127.0.0.1'] });
  const f = (n: string, s: string) => (writeFileSync(path.join(dir, n), s, { mode: 0o600 }), path.join(dir, n));
  return { ca: ca.cert, caFile: f('ca.crt', ca.cert), cert: f('gw.crt', gw.cert + ca.cert), key: f('gw.key', gw.key) };
}

/** The lab Exchange, knowing only the client's user (it checks that password; the gateway checks the rest). */
export async function startSmallLab(dir: string, pki: Pki): Promise<Lab> {
  const file = path.join(dir, 'lab-directory.yaml');
  writeFileSync(file, directoryYaml(0));
  const d = loadDirectoryFile(file);
  if (!d.ok) throw new Error('lab directory invalid');
  return startLab(labOptions(d.directory, 'https://127.0.0.1:1'), { host: '127.0.0.1', port: 0, cert: readFileSync(pki.cert), key: readFileSync(pki.key) });
}

export function gatewayConfig(o: { pki: Pki; lab: Lab; directoryFile: string; rules?: number }): string {
  return `workers: 1
listeners:
  - { address: 127.0.0.1, port: 0, zone: external, tls: { certificates: [{ cert: ${o.pki.cert}, key: ${o.pki.key} }] } }
upstream: { url: "${o.lab.url}", tls: { ca: ${o.pki.caFile} } }
directory: { provider: file, file: ${o.directoryFile} }
log: { level: info }
${policyYaml(o.rules ?? 0)}`;
}

export interface Gateway {
  readonly proc: ChildProcess;
  readonly lines: Array<Record<string, unknown>>;
  waitFor(pred: (l: Record<string, unknown>) => boolean, ms?: number, from?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** `portcullis serve` with the gateway's V8 flags (as bin/portcullis.js has them), log lines collected. */
export function spawnGateway(config: string): Gateway {
  const proc = spawn(process.execPath, [...GATEWAY_V8_FLAGS, BIN, 'serve', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  let rest = '';
  let wake: () => void = () => {};
  proc.stdout!.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Record<string, unknown>);
    wake();
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    proc,
    lines,
    async waitFor(pred, ms = 60_000, from = 0) {
      const t0 = Date.now();
      for (;;) {
        const hit = lines.slice(from).find(pred);
        if (hit) return hit;
        if (proc.exitCode !== null || Date.now() - t0 > ms) throw new Error(`log line not seen (exit ${proc.exitCode}); stderr: ${stderr.slice(-2000)}; got: ${lines.map((l) => l['msg']).slice(-20).join(' | ')}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
    },
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** One request of the keep-alive client: when it was sent and how long its answer took. */
export interface Sample {
  readonly at: number;
  readonly ms: number;
  readonly status: number;
}

const EWS_BODY = '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Body><m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder></s:Body></s:Envelope>';

/** A keep-alive client: one small POST every `everyMs`, never two at once (a late answer delays the next). */
export async function startClient(port: number, ca: string, everyMs = 20): Promise<{ samples: Sample[]; stop(): Promise<void> }> {
  const c = await RawClient.connect(port, ca);
  c.socket.setNoDelay(true);
  const auth = `Basic ${Buffer.from(`LAB\\${CLIENT_USER}:${PASSWORD}`).toString('base64')}`;
  // Head and body in one write: two writes would wait for a delayed ACK (Nagle), 40 ms a request.
  const request = Buffer.from(`POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: ${c.host}\r\nAuthorization: ${auth}\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(EWS_BODY)}\r\n\r\n${EWS_BODY}`);
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running && !c.closed) {
      const at = Date.now();
      c.write(request);
      const r = await c.read('POST').catch(() => undefined);
      samples.push({ at, ms: Date.now() - at, status: r?.head.status ?? 0 });
      await new Promise((res) => setTimeout(res, Math.max(0, at + everyMs - Date.now())));
    }
  })();
  return {
    samples,
    async stop() {
      running = false;
      await loop;
      c.close();
    },
  };
}

/**
 * The lab answers with two writes (head, body); on a socket with Nagle's algorithm the body waits
 * for the gateway's delayed ACK, 40 ms per request, which would hide any stall below that.
 */
export function labNoDelay(lab: Lab): void {
  for (const c of lab.connections) c.socket.setNoDelay(true);
}

/** The longest request that was in flight at any time between `from` and `to`. */
export function longestDuring(samples: readonly Sample[], from: number, to: number): number {
  return samples.filter((s) => s.at <= to && s.at + s.ms >= from).reduce((m, s) => Math.max(m, s.ms), 0);
}

/** User + system CPU time of a process so far (/proc/<pid>/stat, clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function procStatusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

export interface ReloadOutcome {
  /** From the trigger (signal or file write) to the end of the re-evaluation that follows the swap. */
  readonly reloadMs: number;
  readonly longestMs: number;
  readonly ok: boolean;
}

/** Waits for the reload started at `since` (log line index) to finish; measures the client meanwhile. */
export async function awaitReload(gw: Gateway, client: { samples: Sample[] }, t0: number, since: number): Promise<ReloadOutcome> {
  const end = await gw.waitFor((l) => (l['msg'] === 're-evaluated live connections' && l['why'] === 'reload') || /rejected; the running one stays/.test(String(l['msg'])), 120_000, since);
  const done = Number(end['time']);
  // Requests just after the swap count too (the old state's garbage, the re-evaluation).
  await new Promise((r) => setTimeout(r, 300));
  return { reloadMs: done - t0, longestMs: longestDuring(client.samples, t0, done + 300), ok: end['msg'] === 're-evaluated live connections' };
}

export interface Row {
  readonly label: string;
  readonly users: number;
  readonly rules: number;
  readonly fileBytes: number;
  /** The packed directory each gateway process holds (the data, file-provider.ts). */
  readonly packedBytes: number;
  readonly startMs: number;
  readonly rssKiB: number;
  readonly peakKiB: number;
  readonly idleLongestMs: number;
  /** The gateway's CPU time per request while no reload runs (a timer and GC included). */
  readonly cpuPerRequestMs: number;
  readonly hup: ReloadOutcome;
  readonly edit: ReloadOutcome;
  readonly failed: number;
}

/** One row: start the gateway on a generated directory, SIGHUP at 4 s, then edit the directory file. */
export async function measureRow(o: { dir: string; pki: Pki; lab: Lab; users: number; rules?: number; label?: string }): Promise<Row> {
  const directoryFile = path.join(o.dir, `directory-${o.users}.yaml`);
  writeFileSync(directoryFile, directoryYaml(o.users));
  const edited = directoryYaml(o.users, 17);
  const config = path.join(o.dir, `portcullis-${o.users}-${o.rules ?? 0}.yaml`);
  writeFileSync(config, gatewayConfig({ pki: o.pki, lab: o.lab, directoryFile, rules: o.rules ?? 0 }));
  const t0 = Date.now();
  const gw = spawnGateway(config);
  try {
    const listening = await gw.waitFor((l) => l['msg'] === 'listening');
    const startMs = Date.now() - t0;
    const client = await startClient(Number(listening['port']), o.pki.ca);
    const warm = Date.now() + 1_000;
    await new Promise((r) => setTimeout(r, 500));
    labNoDelay(o.lab);
    await new Promise((r) => setTimeout(r, 500));
    // CPU per request between two reloads: the gateway's CPU time over the requests answered.
    const cpu0 = cpuMs(gw.proc.pid!);
    const n0 = client.samples.length;
    await new Promise((r) => setTimeout(r, 3_000));
    const cpuPerRequestMs = (cpuMs(gw.proc.pid!) - cpu0) / (client.samples.length - n0);
    const rssKiB = procStatusKiB(gw.proc.pid!, 'VmRSS');
    // The first requests (handshakes, the upstream connection, code not yet optimised) are not idle.
    const idleLongestMs = longestDuring(client.samples, warm, Date.now());
    let since = gw.lines.length;
    const hupAt = Date.now();
    gw.proc.kill('SIGHUP');
    const hup = await awaitReload(gw, client, hupAt, since);
    await new Promise((r) => setTimeout(r, 1_000));
    since = gw.lines.length;
    const editAt = Date.now();
    await writeFile(directoryFile, edited);
    const edit = await awaitReload(gw, client, editAt, since);
    const peakKiB = procStatusKiB(gw.proc.pid!, 'VmHWM');
    await client.stop();
    const failed = client.samples.filter((s) => s.status !== 200).length;
    // Imported here, so the same bench also runs against a tree from before packed directories.
    const fp: Partial<typeof import('../src/directory/file-provider.js')> = await import('../src/directory/file-provider.js');
    const packed = fp.loadPackedDirectory?.(directoryFile);
    const packedBytes = packed && fp.transferables ? fp.transferables(packed).reduce((a, b) => a + b.byteLength, 0) : NaN;
    return { label: o.label ?? `${o.users.toLocaleString('en-US')} user${o.users === 1 ? '' : 's'}`, users: o.users, rules: o.rules ?? 0, fileBytes: statSync(directoryFile).size, packedBytes, startMs, rssKiB, peakKiB, idleLongestMs, cpuPerRequestMs, hup, edit, failed };
  } finally {
    await gw.stop();
  }
}

const kib = (b: number) => (Number.isNaN(b) ? '–' : b < 1024 ? `${b} B` : b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${Math.round(b / 1024)} KiB`);
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** RSS moves by a few MiB from run to run: a difference below this is not a measurement. */
const RSS_NOISE_KIB = 5 * 1024;

export function table(rows: readonly Row[]): string {
  const base = rows.find((r) => r.users <= 1 && r.rules === 0);
  const head =
    '| directory / policy | directory file | packed data | start to listening | RSS after start | RSS − 1-user row | per user (per rule) | of which beyond the data | peak RSS | CPU per request | longest request, idle | longest request, SIGHUP reload | reload (SIGHUP) | longest request, file-edit reload | reload (edit) | non-200 |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map((r) => {
    const delta = base && r !== base ? r.rssKiB - base.rssKiB : undefined;
    const n = r.rules > 0 ? r.rules : r.users;
    const noise = delta === undefined || Math.abs(delta) < RSS_NOISE_KIB;
    const per = delta === undefined ? '–' : noise ? 'within noise' : `${(delta / n).toFixed(2)} KiB${r.rules > 0 ? '/rule' : ''}`;
    const beyond = delta === undefined || noise || r.rules > 0 || Number.isNaN(r.packedBytes) ? '–' : `${((delta - r.packedBytes / 1024) / n).toFixed(2)} KiB`;
    return `| ${r.label} | ${kib(r.fileBytes)} | ${kib(r.packedBytes)} | ${sec(r.startMs)} | ${Math.round(r.rssKiB / 1024)} MiB | ${delta === undefined ? '–' : `${(delta / 1024).toFixed(0)} MiB`} | ${per} | ${beyond} | ${Math.round(r.peakKiB / 1024)} MiB | ${r.cpuPerRequestMs.toFixed(2)} ms | ${r.idleLongestMs} ms | ${r.hup.longestMs} ms | ${r.hup.ok ? `${r.hup.reloadMs} ms` : 'refused'} | ${r.edit.longestMs} ms | ${r.edit.ok ? `${r.edit.reloadMs} ms` : 'refused'} | ${r.failed} |`;
  });
  return [head, ...lines].join('\n');
}

/**
 * Rounds of one row: medians of times and memory, the worst of the longest requests (the claim
 * is about the longest one).
 */
function combine(rounds: readonly Row[]): Row {
  const median = (f: (r: Row) => number) => [...rounds].map(f).sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!;
  const worst = (f: (r: Row) => number) => Math.max(...rounds.map(f));
  const first = rounds[0]!;
  return {
    ...first,
    startMs: median((r) => r.startMs),
    rssKiB: median((r) => r.rssKiB),
    peakKiB: median((r) => r.peakKiB),
    idleLongestMs: worst((r) => r.idleLongestMs),
    cpuPerRequestMs: median((r) => r.cpuPerRequestMs),
    hup: { reloadMs: median((r) => r.hup.reloadMs), longestMs: worst((r) => r.hup.longestMs), ok: rounds.every((r) => r.hup.ok) },
    edit: { reloadMs: median((r) => r.edit.reloadMs), longestMs: worst((r) => r.edit.longestMs), ok: rounds.every((r) => r.edit.ok) },
    failed: rounds.reduce((a, r) => a + r.failed, 0),
  };
}

export interface ReloadResults {
  /** Medians of the rounds per row (longest requests: the worst of them). */
  readonly rows: readonly Row[];
  readonly rounds: number;
  readonly node: string;
  readonly cores: number;
}

/**
 * Every row, `rounds` times interleaved (so a slow minute on a shared machine does not fall on one
 * row only): `npm run bench:reload` and the P7 step of `npm run bench`.
 */
export async function runReloadBench(o: { rounds: number; sizes?: readonly number[]; withRules?: boolean }): Promise<ReloadResults> {
  const sizes = o.sizes ?? [1, 5_000, 20_000, 50_000];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-reload-'));
  const pki = await makePki(dir);
  const lab = await startSmallLab(dir, pki);
  const shapes: Array<{ users: number; rules?: number; label?: string }> = sizes.map((users) => ({ users }));
  if (o.withRules ?? true) shapes.push({ users: 1, rules: 1_000, label: '1 user, 1,000 policy rules' });
  const results: Row[][] = shapes.map(() => []);
  try {
    for (let round = 0; round < o.rounds; round++) {
      for (const [i, shape] of shapes.entries()) {
        const r = await measureRow({ dir, pki, lab, ...shape });
        results[i]!.push(r);
        console.error(`P7 round ${round + 1}, ${r.label}: start ${r.startMs} ms, longest request ${r.hup.longestMs} / ${r.edit.longestMs} ms`);
      }
    }
  } finally {
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows: results.map(combine), rounds: o.rounds, node: process.version, cores: os.availableParallelism() };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--rounds='));
  const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? 1);
  const r = await runReloadBench({ rounds, ...(args.length ? { sizes: args.map(Number), withRules: false } : {}) });
  const how = rounds > 1 ? `medians of ${rounds} rounds, longest requests the worst of them` : 'one round';
  console.log(`\nReload and memory (${r.cores} cores, Node ${r.node}; one gateway process, one keep-alive client, a POST every 20 ms; ${how}):\n`);
  console.log(table(r.rows));
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) await main();
