// P7's LDAP rows (issue #18): what the LDAP directory's cache costs when it holds 50,000 users, and
// whether the event loop that serves connections notices it. A real OpenLDAP (scripts/openldap.sh)
// holds N users in 200 groupOfNames nested in chains of 8 below Outlook-Remote (the shape of the
// file-directory rows), bulk-loaded offline with slapadd; a child process (clean RSS, the gateway's V8 flags) builds the gateway's
// LdapDirectory against it and looks every user up: cold (through the pool, nested groups walked),
// then warm. OpenLDAP, not Samba: Samba adds about 30 users a second here (50,000 would take half
// an hour per run); the cache holds the same entries whichever server answered, and the AD path
// (tokenGroups, SID map) is measured by the login storm (P6).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { directoryConfigSchema, type LdapConfig } from '../src/directory/directory-config.js';
import { LdapDirectory } from '../src/directory/ldap-provider.js';
import type { Answer, LookupCache } from '../src/directory/lookup-cache.js';
import { GATEWAY_V8_FLAGS } from '../src/cli/serve-primary.js';

const ROOT = new URL('..', import.meta.url).pathname;
const GROUPS = 200;
const NEST = 8;
const BASE = 'dc=lab,dc=example';
const pad = (n: number, w: number) => String(n).padStart(w, '0');
const user = (i: number) => `u${pad(i, 6)}`;
const group = (g: number) => `G-${pad(g, 3)}`;
/** The chains' heads are in this group (Outlook-Remote, made by openldap.sh, holds the demo users). */
const TOP = 'Bulk-Remote';
/** Users cached before the memory base is taken (per-user figures are over the rest). */
const WARM = 1_000;

export interface LdapCacheRow {
  readonly users: number;
  readonly loadSeconds: number;
  readonly coldMs: number;
  readonly coldOps: number;
  readonly coldLookupP99Ms: number;
  readonly coldLoopMaxMs: number;
  /** CPU of slapd during the cold pass, per user looked up. */
  readonly serverCpuMsPerUser: number;
  readonly warmMs: number;
  readonly warmOps: number;
  readonly warmLookupMaxMs: number;
  readonly warmLoopMaxMs: number;
  readonly rssBaseKiB: number;
  readonly rssKiB: number;
  readonly heapPerUserBytes: number;
  readonly rssPerUserKiB: number;
  /** The characters each cached user's own strings hold (lookup key, user key, names, mail, DN): the data. */
  readonly dataPerUserBytes: number;
  readonly cached: number;
  readonly wrong: number;
  /** The refresh-ahead sweep over the whole cache with every entry due: its duration, and the longest it held the event loop (it yields every 1,000 entries). */
  readonly sweepMs: number;
  readonly sweepLoopMaxMs: number;
  /** RSS per user of every round (child process), in the order run; the row is the median round's. */
  readonly rssPerUserRounds?: readonly number[];
}

/** Plain adds for slapadd: users in G-000…G-199 (user i in group i mod 200); chains G-000 ⊃ … ⊃ G-007, heads in Bulk-Remote. */
function ldif(users: number): string {
  const out: string[] = [];
  for (let i = 0; i < users; i++) {
    const u = user(i);
    out.push(`dn: uid=${u},ou=people,${BASE}\nobjectClass: inetOrgPerson\nuid: ${u}\ncn: ${u}\nsn: ${u}\nmail: ${u}@lab.example\n`);
  }
  for (let g = GROUPS - 1; g >= 0; g--) {
    const members = [];
    for (let i = g; i < users; i += GROUPS) members.push(`member: uid=${user(i)},ou=people,${BASE}`);
    if (g % NEST !== NEST - 1) members.push(`member: cn=${group(g + 1)},ou=groups,${BASE}`);
    if (members.length === 0) members.push(`member: cn=nobody,${BASE}`);
    out.push(`dn: cn=${group(g)},ou=groups,${BASE}\nobjectClass: groupOfNames\ncn: ${group(g)}\n${members.join('\n')}\n`);
  }
  const heads = Array.from({ length: GROUPS / NEST }, (_, c) => `member: cn=${group(c * NEST)},ou=groups,${BASE}`);
  out.push(`dn: cn=${TOP},ou=groups,${BASE}\nobjectClass: groupOfNames\ncn: ${TOP}\n${heads.join('\n')}\n`);
  return out.join('\n');
}

/** Which groups user i must come back with: its group, the chain above it, Outlook-Remote. */
function expectedGroups(i: number): string[] {
  const g = i % GROUPS;
  const head = g - (g % NEST);
  return [...Array.from({ length: g - head + 1 }, (_, k) => group(head + k)), TOP].sort();
}

const cpuMs = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};

const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Looks every user up, `concurrency` at a time; the latencies and how many answers were wrong. */
async function pass(d: LdapDirectory, from: number, users: number, concurrency: number): Promise<{ ms: number; latencies: number[]; wrong: number; loopMaxMs: number }> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const latencies: number[] = [];
  let wrong = 0;
  let next = from;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < users; i = next++) {
        const a = performance.now();
        const r = await d.lookup({ domain: 'LAB', user: user(i) });
        latencies.push(performance.now() - a);
        if (r.status !== 'found' || [...r.entry.groups].sort().join() !== expectedGroups(i).join()) wrong++;
      }
    }),
  );
  const ms = performance.now() - t0;
  loop.disable();
  return { ms, latencies: latencies.sort((a, b) => a - b), wrong, loopMaxMs: loop.max / 1e6 };
}

/** The child: one LdapDirectory, a cold pass, a warm pass; prints the row as JSON. */
async function child(o: { dir: string; users: number; slapdPid: number; loadSeconds: number }): Promise<void> {
  const cfg = directoryConfigSchema.parse({
    provider: 'ldap',
    url: 'ldaps://127.0.0.1:6360',
    ca: path.join(o.dir, 'tls/ldap.crt'),
    bindDn: `uid=svc-gateway,ou=people,${BASE}`,
    bindPassword: 'Passw0rd!',
    baseDn: BASE,
    groupBaseDn: `ou=groups,${BASE}`,
    flavor: 'openldap',
    netbiosDomain: 'LAB',
    upnSuffixes: ['lab.example'],
    cacheTtl: '10m',
  }) as LdapConfig;
  // The clock the cache reads; moved forward at the end to make every entry due for a refresh.
  let skew = 0;
  const d = new LdapDirectory(cfg, pino({ level: 'silent' }), () => Date.now() + skew);
  const cpu0 = cpuMs(o.slapdPid);
  // The base, like the file rows' 1-user row: the pool bound, the code warm, WARM users cached.
  const first = await pass(d, 0, WARM, 64);
  await settle();
  const rssBaseKiB = rssKiB();
  const heap0 = process.memoryUsage().heapUsed;
  const cold = await pass(d, WARM, o.users, 64);
  const serverCpu = cpuMs(o.slapdPid) - cpu0;
  const coldOps = d.stats().ldapOperations.total;
  await settle();
  const rss = rssKiB();
  const heap = process.memoryUsage().heapUsed - heap0;
  const warm = await pass(d, 0, o.users, 64);
  const s = d.stats();
  // The sweep the provider runs every min(60 s, …): timed directly on its cache, once with every
  // entry fresh and once with every entry due (cacheTtl × 0.85 later), which sorts all 50,000.
  const cache = (d as unknown as { cache: LookupCache }).cache;
  let dataChars = 0;
  for (const [key, a] of (cache as unknown as { found: Map<string, { result: Answer; dn?: string }> }).found) {
    const e = a.result.status === 'found' ? a.result.entry : undefined;
    dataChars += key.length + (a.dn?.length ?? 0) + (e ? e.key.length + e.sam.length + e.upn.length + e.mail.length : 0);
  }
  skew = cfg.cacheTtl * 0.85;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const t = performance.now();
  // As LdapDirectory's sweep calls it (SWEEP_SLICE entries per turn of the event loop).
  const due = (await cache.sweepInSlices(1_000, () => new Promise<void>((r) => setImmediate(r)))).length;
  const sweepMs = performance.now() - t;
  loop.disable();
  if (due !== o.users) throw new Error(`sweep found ${due} entries due, expected ${o.users}`);
  const row: LdapCacheRow = {
    users: o.users,
    loadSeconds: o.loadSeconds,
    coldMs: first.ms + cold.ms,
    coldOps,
    coldLookupP99Ms: cold.latencies[Math.floor(cold.latencies.length * 0.99)] ?? 0,
    coldLoopMaxMs: cold.loopMaxMs,
    serverCpuMsPerUser: serverCpu / o.users,
    warmMs: warm.ms,
    warmOps: s.ldapOperations.total - coldOps,
    warmLookupMaxMs: warm.latencies.at(-1) ?? 0,
    warmLoopMaxMs: warm.loopMaxMs,
    rssBaseKiB,
    rssKiB: rss,
    heapPerUserBytes: heap / (o.users - WARM),
    rssPerUserKiB: (rss - rssBaseKiB) / (o.users - WARM),
    dataPerUserBytes: dataChars / o.users,
    cached: s.cache.found,
    wrong: first.wrong + cold.wrong + warm.wrong,
    sweepMs,
    sweepLoopMaxMs: loop.max / 1e6,
  };
  await d.close();
  process.stdout.write(JSON.stringify(row));
}

/** OpenLDAP with `users` users up, the child measured, OpenLDAP down. Takes the ports 3890/6360. */
export async function runLdapCacheBench(o: { users: number; rounds?: number }): Promise<LdapCacheRow> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-ldap-cache-'));
  const script = path.join(ROOT, 'scripts/openldap.sh');
  try {
    execFileSync('bash', [script, 'up', dir], { stdio: 'pipe' });
    writeFileSync(path.join(dir, 'bulk.ldif'), ldif(o.users));
    const t0 = Date.now();
    execFileSync('bash', [script, 'load', dir, path.join(dir, 'bulk.ldif')], { stdio: 'pipe', maxBuffer: 1 << 26 });
    const loadSeconds = (Date.now() - t0) / 1000;
    const slapdPid = Number(readFileSync(path.join(dir, 'slapd.pid'), 'utf8').trim());
    const arg = JSON.stringify({ dir, users: o.users, slapdPid, loadSeconds });
    // RSS after the cold pass includes what the allocator keeps of the pass' freed TLS and BER
    // buffers, which varies from run to run (0.97 and 2.71 KiB per user in two runs of one day, the
    // JS heap 0.51 KiB both times): each round is a fresh process, and the median round is reported.
    const rows: LdapCacheRow[] = [];
    for (let round = 0; round < (o.rounds ?? 1); round++) {
      // With the gateway's V8 flags: its young generation and old space are what the RSS is made of.
      const p = spawn(process.execPath, [...GATEWAY_V8_FLAGS, '--expose-gc', '--import', 'tsx', new URL(import.meta.url).pathname, '--child', arg], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (b: Buffer) => (out += b.toString()));
      const code = await new Promise<number | null>((r) => p.once('exit', r));
      if (code !== 0) throw new Error(`ldap cache bench child exited ${code}`);
      rows.push(JSON.parse(out) as LdapCacheRow);
      console.error(`ldap cache round ${round + 1}: ${rows.at(-1)!.rssPerUserKiB.toFixed(2)} KiB RSS per user, JS heap ${(rows.at(-1)!.heapPerUserBytes / 1024).toFixed(2)} KiB`);
    }
    const median = [...rows].sort((a, b) => a.rssPerUserKiB - b.rssPerUserKiB)[Math.floor(rows.length / 2)]!;
    return { ...median, rssPerUserRounds: rows.map((r) => r.rssPerUserKiB) };
  } finally {
    try {
      execFileSync('bash', [script, 'down', dir], { stdio: 'pipe' });
    } catch {
      // already down
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  const i = process.argv.indexOf('--child');
  if (i > 0) await child(JSON.parse(process.argv[i + 1]!) as Parameters<typeof child>[0]);
  else console.log(JSON.stringify(await runLdapCacheBench({ users: Number(process.argv[2] ?? 50_000) }), null, 1));
}
