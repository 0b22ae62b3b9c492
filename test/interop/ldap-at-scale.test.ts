// Issue #18, the login storm: the LDAP directory against a real Samba AD DC (scripts/samba-dc.sh)
// holding a reduced storm population: the connection pool is bounded (seen from the DC's side of
// the sockets), memberOf through the group graph and tokenGroups agree with the in-chain rule, concurrent lookups coalesce, the
// breaker stops a connection storm against a dead DC, failover and recovery work, and a storm of
// new Basic logins through the gateway gets no refusals.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { parse } from 'yaml';
import { directoryConfigSchema, type LdapConfig } from '../../src/directory/directory-config.js';
import { directoryFileSchema } from '../../src/directory/file-schema.js';
import { loadDirectoryFile } from '../../src/directory/file-directory.js';
import { LdapDirectory } from '../../src/directory/ldap-provider.js';
import type { DirectoryStats } from '../../src/directory/provider.js';
import { RawClient } from '../../src/doctor/http-probe.js';
import { startEnv } from '../helpers/env.js';
import { STORM_EWS_BODY, looseUser, stormUser, stormYaml } from '../../scripts/storm-users.js';

const SCRIPTS = new URL('../../scripts/', import.meta.url).pathname;
const BASE = 'CN=Users,DC=lab,DC=example';
const SHAPE = { users: 300, groups: 3, loose: 30 };
const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

/** Established TCP connections from this process to a port (the DC's view of how many we hold). */
function connectionsTo(port: number): number {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(`pid=${process.pid},`)).length;
}

/** Samples `connectionsTo(port)` every 10 ms until stopped; returns the highest count seen. */
function watchConnections(port: number): () => number {
  let max = 0;
  const t = setInterval(() => (max = Math.max(max, connectionsTo(port))), 10);
  return () => (clearInterval(t), Math.max(max, connectionsTo(port)));
}

/** A TCP relay to the DC that can be cut and restored: a domain controller going away and coming back. */
async function relay(target: number): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((c) => {
        const up = net.connect(target, '127.0.0.1');
        sockets.add(c).add(up);
        c.pipe(up).pipe(c);
        const drop = () => (c.destroy(), up.destroy(), sockets.delete(c), sockets.delete(up));
        c.on('error', drop).on('close', drop);
        up.on('error', drop).on('close', drop);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server!.close(() => resolve());
    });
  await listen();
  return { port, cut, restore: listen, stop: cut };
}

describe('issue #18: the directory at scale, against Samba AD', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pc-samba-scale-'));
  const conf = path.join(dir, 'etc/smb.conf');
  const cfg = (over: Record<string, unknown> = {}) =>
    directoryConfigSchema.parse({
      provider: 'ldap',
      netbiosDomain: 'LAB',
      upnSuffixes: ['lab.example'],
      url: 'ldaps://127.0.0.1:636',
      ca: path.join(dir, 'tls/dc.crt'),
      bindDn: 'svc-gateway@lab.example',
      bindPassword: 'Svc-Passw0rd!',
      baseDn: BASE,
      ...over,
    }) as LdapConfig;
  const ldapadd = (ldif: string) =>
    execFileSync('ldapadd', ['-H', 'ldaps://127.0.0.1:636', '-x', '-D', 'Administrator@lab.example', '-w', 'Adm1n-Passw0rd!'], { input: ldif, env: { ...process.env, LDAPTLS_CACERT: path.join(dir, 'tls/dc.crt') }, stdio: ['pipe', 'pipe', 'pipe'] });
  const found = async (d: LdapDirectory, user: string) => {
    const r = await d.lookup({ domain: 'LAB', user });
    assert.equal(r.status, 'found', `${user}: ${JSON.stringify(r)}`);
    return r.status === 'found' ? r.entry : undefined!;
  };
  const delta = (a: DirectoryStats, b: DirectoryStats) => ({ queries: b.directoryQueries - a.directoryQueries, searches: (b.ldapOperations.byKind['search'] ?? 0) - (a.ldapOperations.byKind['search'] ?? 0), connects: (b.ldapOperations.byKind['connect'] ?? 0) - (a.ldapOperations.byKind['connect'] ?? 0) });

  before(() => {
    const t0 = Date.now();
    execFileSync('bash', [SCRIPTS + 'samba-dc.sh', 'up', dir], { stdio: 'pipe' });
    execFileSync('bash', [SCRIPTS + 'samba-dc.sh', 'storm', dir, String(SHAPE.users), String(SHAPE.groups), String(SHAPE.loose)], { stdio: 'pipe' });
    console.log(`# Samba AD DC with ${SHAPE.users + SHAPE.loose} storm users provisioned in ${Date.now() - t0} ms`);
  });
  after(() => execFileSync('bash', [SCRIPTS + 'samba-dc.sh', 'down', dir]));

  it('memberOf through the group graph and tokenGroups give the in-chain groups at any depth (plus the primary group), including groups created after the graph was read', async () => {
    const graph = new LdapDirectory(cfg(), log); // member-of, the default on AD
    const token = new LdapDirectory(cfg({ groupResolution: 'token-groups' }), log);
    const chain = new LdapDirectory(cfg({ groupResolution: 'in-chain' }), log);
    // Loads the group graph and the SID map before the groups below exist.
    await Promise.all([found(graph, 'alice'), found(token, 'alice')]);
    // carol -> Deep-1 -> Deep-2 -> ... -> Deep-5 (created now), and a distribution list.
    const deep = Array.from({ length: 5 }, (_, i) => `dn: CN=Deep-${i + 1},${BASE}\nchangetype: add\nobjectClass: group\nsAMAccountName: Deep-${i + 1}\ngroupType: -2147483646\n${i === 0 ? `member: CN=carol,${BASE}\n` : `member: CN=Deep-${i},${BASE}\n`}`);
    ldapadd(`${deep.join('\n')}\ndn: CN=Dist-List,${BASE}\nchangetype: add\nobjectClass: group\nsAMAccountName: Dist-List\ngroupType: 2\nmember: CN=carol,${BASE}\n`);
    for (const user of ['alice', 'bob', 'carol', 'erin', stormUser(0), stormUser(SHAPE.users - 1), looseUser(0)]) {
      const c = await found(chain, user);
      const expected = user === 'carol' ? [...c.groups].filter((g) => g !== 'Dist-List') : [...c.groups];
      for (const [how, d] of [['member-of', graph], ['token-groups', token]] as const) {
        const t = await found(d, user);
        assert.deepEqual(t.groups.filter((g) => g !== 'Domain Users'), expected, `${user}: ${how} vs in-chain`);
        assert.ok(t.groups.includes('Domain Users'), `${user}: the primary group is in the token (${how})`);
        assert.equal(t.enabled, c.enabled);
      }
    }
    for (const d of [graph, token]) {
      assert.deepEqual((await found(d, 'carol')).groups, ['Deep-1', 'Deep-2', 'Deep-3', 'Deep-4', 'Deep-5', 'Domain Users']);
      assert.deepEqual((await found(d, stormUser(1))).groups, ['Domain Users', 'Outlook-Remote', 'Storm-02'], 'nested through Storm-02');
    }
    assert.deepEqual((await found(chain, 'carol')).groups, ['Deep-1', 'Deep-2', 'Deep-3', 'Deep-4', 'Deep-5', 'Dist-List'], 'in-chain also sees distribution groups');
    assert.equal((await found(graph, 'erin')).enabled, false, 'userAccountControl ACCOUNTDISABLE');
    await Promise.all([graph.close(), token.close(), chain.close()]);
  });

  it('the pool is bounded: 300 concurrent cold lookups hold at most pool.size connections to the DC', async () => {
    // A long queue deadline: this is about the bound, and the 2-core machine is shared.
    const d = new LdapDirectory(cfg({ pool: { size: 3, acquireTimeout: '30s' } }), log);
    await sleep(200); // sockets of the tests before have closed
    const stop = watchConnections(636);
    const t0 = performance.now();
    const rs = await Promise.all(Array.from({ length: SHAPE.users }, (_, i) => d.lookup({ domain: 'LAB', user: stormUser(i) })));
    const ms = performance.now() - t0;
    const seen = stop();
    const s = d.stats();
    console.log(`# 300 cold lookups in ${ms.toFixed(0)} ms over ${s.domainControllers[0]!.service.opened} connections (at most ${seen} seen by ss)`);
    assert.equal(rs.filter((r) => r.status === 'found').length, SHAPE.users);
    assert.ok(seen >= 1 && seen <= 3, `connections to 636 seen: ${seen}`);
    assert.equal(s.domainControllers[0]!.service.peak, 3);
    assert.equal(s.ldapOperations.byKind['connect'], 3, 'each connection opened once and re-used');
    assert.equal(s.ldapOperations.byKind['bind'], 3, 'one service bind per connection, not per lookup');
    await d.close();
  });

  it('100 concurrent lookups of one user cost one query; "no such user" is cached for negativeCacheTtl', async () => {
    const d = new LdapDirectory(cfg({ negativeCacheTtl: '400ms' }), log);
    await found(d, 'alice'); // group graph loaded, connections open
    const s0 = d.stats();
    const rs = await Promise.all(Array.from({ length: 100 }, () => d.lookup({ domain: 'LAB', user: 'bob' })));
    const s1 = d.stats();
    assert.ok(rs.every((r) => r.status === 'found' && r.entry.key === 'LAB\\bob'));
    assert.deepEqual(delta(s0, s1), { queries: 1, searches: 1, connects: 0 }, 'one user search, memberOf with it');
    assert.equal(s1.coalesced - s0.coalesced, 99);
    for (let i = 0; i < 3; i++) assert.equal((await d.lookup({ domain: 'LAB', user: 'ghost' })).status, 'not-found');
    assert.equal(delta(s1, d.stats()).queries, 1, 'unknown user asked once');
    await sleep(450);
    assert.equal((await d.lookup({ domain: 'LAB', user: 'ghost' })).status, 'not-found');
    assert.equal(delta(s1, d.stats()).queries, 2, 'asked again after negativeCacheTtl');
    await d.close();
  });

  it('refresh-ahead: an entry in use is refreshed in the background, so its user never waits', async () => {
    const d = new LdapDirectory(cfg({ cacheTtl: '1s', refreshAhead: 0.5 }), log);
    await found(d, 'bob');
    const s0 = d.stats();
    for (let i = 0; i < 12; i++) {
      await sleep(100);
      await found(d, 'bob');
    }
    const s1 = d.stats();
    assert.ok(s1.backgroundRefreshes - s0.backgroundRefreshes >= 1, 'refreshed in the background');
    assert.equal(s1.directoryQueries - s0.directoryQueries, s1.backgroundRefreshes - s0.backgroundRefreshes, 'every query was a background one');
    assert.equal(s1.cacheHits - s0.cacheHits, 12, 'every lookup answered from the cache, past the 1 s TTL');
    await d.close();
  });

  it('the breaker: a dead DC costs at most pool.size connection attempts, then fails fast', async () => {
    const closed = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const d = new LdapDirectory(cfg({ url: `ldaps://127.0.0.1:${closed}`, pool: { size: 4 }, breaker: { cooldown: '1s', maxCooldown: '4s' } }), log);
    const t0 = performance.now();
    const first = await Promise.all(Array.from({ length: 200 }, (_, i) => d.lookup({ domain: 'LAB', user: stormUser(i) })));
    const t1 = performance.now();
    assert.ok(first.every((r) => r.status === 'unavailable'));
    const s = d.stats();
    assert.ok(s.ldapOperations.byKind['connect']! <= 4, `connection attempts: ${s.ldapOperations.byKind['connect']}`);
    assert.equal(s.domainControllers[0]!.breaker, 'open');
    const again = await Promise.all(Array.from({ length: 200 }, (_, i) => d.lookup({ domain: 'LAB', user: stormUser(i) })));
    const t2 = performance.now();
    assert.ok(again.every((r) => r.status === 'unavailable' && /marked down/.test(r.reason)), JSON.stringify(again[0]));
    assert.equal(d.stats().ldapOperations.byKind['connect'], s.ldapOperations.byKind['connect'], 'no attempt while open');
    console.log(`# dead DC: 200 lookups answered "unavailable" in ${(t1 - t0).toFixed(0)} ms, the next 200 in ${(t2 - t1).toFixed(1)} ms`);
    assert.ok(t2 - t1 < 200, 'fast failures while the breaker is open');
    await sleep(1500);
    const probes = d.stats().ldapOperations.byKind['connect']! - s.ldapOperations.byKind['connect']!;
    assert.equal(probes, 1, 'one background probe after the 1 s cooldown (the next one waits 2 s)');
    assert.equal(d.stats().domainControllers[0]!.breaker, 'open');
    await d.close();
  });

  it('failover: the first DC goes away, the second (StartTLS on 389) serves; the first takes over again when it is back', async () => {
    const r = await relay(636);
    const d = new LdapDirectory(cfg({ url: undefined, urls: [`ldaps://127.0.0.1:${r.port}`, 'ldap://127.0.0.1:389'], startTls: true, breaker: { cooldown: '200ms', maxCooldown: '400ms' } }), log);
    try {
      await found(d, stormUser(10));
      let s = d.stats();
      assert.equal(s.domainControllers[0]!.service.opened, 1);
      assert.equal(s.domainControllers[1]!.service.opened, 0);
      await r.cut();
      const t0 = performance.now();
      const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => d.lookup({ domain: 'LAB', user: stormUser(100 + i) })));
      console.log(`# failover: 50 lookups answered by the second DC in ${(performance.now() - t0).toFixed(0)} ms`);
      assert.ok(rs.every((x) => x.status === 'found'), JSON.stringify(rs.find((x) => x.status !== 'found')));
      s = d.stats();
      assert.equal(s.domainControllers[0]!.breaker, 'open');
      assert.ok(s.domainControllers[1]!.service.opened >= 1);
      assert.equal(s.ldapOperations.byKind['startTls'], s.domainControllers[1]!.service.opened + s.domainControllers[1]!.passwords.opened);
      await r.restore();
      await sleep(1000);
      assert.equal(d.stats().domainControllers[0]!.breaker, 'closed', 'the probe found it back');
      const before = d.stats().domainControllers[1]!;
      await found(d, stormUser(200));
      const after1 = d.stats();
      assert.equal(after1.domainControllers[1]!.service.busy + after1.domainControllers[1]!.service.idle, before.service.busy + before.service.idle);
      assert.equal(after1.directoryQueries - s.directoryQueries, 1);
    } finally {
      await d.close();
      await r.stop();
    }
  });

  it('the DC stops: cached users are served within the grace period, others fail fast; it starts again: lookups recover', async () => {
    let now = Date.now();
    const d = new LdapDirectory(cfg({ cacheTtl: '1s', gracePeriod: '2s', breaker: { cooldown: '300ms', maxCooldown: '600ms' } }), log, () => now);
    await found(d, 'bob');
    execFileSync('bash', [SCRIPTS + 'samba-dc.sh', 'stop', dir]);
    try {
      now += 1500; // past the TTL, within the grace period
      assert.equal((await d.lookup({ domain: 'LAB', user: 'bob' })).status, 'found', 'stale answer within grace');
      const t0 = performance.now();
      const r = await d.lookup({ domain: 'LAB', user: 'alice' });
      assert.equal(r.status, 'unavailable');
      assert.ok(performance.now() - t0 < 100, 'no waiting on a stopped DC');
      now += 2000; // past TTL + grace
      assert.equal((await d.lookup({ domain: 'LAB', user: 'bob' })).status, 'unavailable', 'fails closed after the grace period');
    } finally {
      execFileSync('bash', [SCRIPTS + 'samba-dc.sh', 'start', dir]);
    }
    const t0 = Date.now();
    let status = '';
    while (Date.now() - t0 < 10_000 && status !== 'found') {
      status = (await d.lookup({ domain: 'LAB', user: 'alice' })).status;
      if (status !== 'found') await sleep(100);
    }
    console.log(`# DC restarted: lookups answered again after ${Date.now() - t0} ms`);
    assert.equal(status, 'found');
    await d.close();
  });

  it('password checks bind on their own connections, reset to anonymous, and are coalesced', async () => {
    const d = new LdapDirectory(cfg(), log);
    const bob = await found(d, 'bob');
    const s0 = d.stats();
    const rs = await Promise.all(Array.from({ length: 20 }, () => d.verifyPassword(bob, 'Passw0rd!')));
    assert.ok(rs.every((r) => r === 'ok'));
    assert.equal(await d.verifyPassword(bob, 'wrong'), 'bad-password');
    await sleep(100); // the reset bind runs after the answer
    const s1 = d.stats();
    assert.equal(s1.domainControllers[0]!.service.opened, s0.domainControllers[0]!.service.opened, 'no service connection used');
    assert.equal((s1.ldapOperations.byKind['bind'] ?? 0) - (s0.ldapOperations.byKind['bind'] ?? 0), 4, '20 concurrent checks: 1 bind + 1 reset; the wrong one: 1 + 1');
    assert.ok(s1.domainControllers[0]!.passwords.opened <= 2);
    await d.close();
  });

  it('a storm of new Basic logins through the gateway: no refusals, the right answers, few DC connections', async () => {
    const loaded = loadDirectoryFile('storm.yaml', stormYaml(SHAPE));
    assert.ok(loaded.ok);
    const env = await startEnv({
      lab: { directory: loaded.directory },
      config: (b) => ({ ...b, directory: { provider: 'ldap', url: 'ldaps://127.0.0.1:636', ca: path.join(dir, 'tls/dc.crt'), bindDn: 'svc-gateway@lab.example', bindPassword: 'Svc-Passw0rd!', baseDn: BASE, netbiosDomain: 'LAB', upnSuffixes: ['lab.example'], cacheTtl: '10m' } }),
    });
    try {
      const users = [...Array.from({ length: SHAPE.users }, (_, i) => stormUser(i)), ...Array.from({ length: SHAPE.loose }, (_, i) => looseUser(i))];
      const statuses = new Map<string, number>();
      const stop = watchConnections(636);
      const t0 = performance.now();
      const run = async (round: string) => {
        for (let i = 0; i < users.length; i += 100) {
          await Promise.all(
            users.slice(i, i + 100).map(async (u) => {
              const c = await RawClient.connect(env.port, env.pki.ca);
              const r = await c.request('POST', '/EWS/Exchange.asmx', { Authorization: basic(`LAB\\${u}`), 'Content-Type': 'text/xml; charset=utf-8' }, STORM_EWS_BODY);
              c.close();
              statuses.set(`${round}${u}`, r.head.status);
              if (r.head.status === 200) assert.equal(r.header('x-lab-identity'), `LAB\\${u}`);
            }),
          );
        }
      };
      await run('cold:');
      const cold = performance.now() - t0;
      const s0 = env.runtime.state().directory.stats!();
      // Idle pooled connections are health-checked (a base read) after directory.pool.healthCheck
      // (30 s): on a slow machine that falls in the warm storm, and is no lookup's cost.
      const lookupOps = (x: typeof s0) => x.ldapOperations.total - (x.ldapOperations.byKind['healthCheck'] ?? 0);
      await run('warm:');
      const seen = stop();
      const s = env.runtime.state().directory.stats!();
      const count = (pred: (k: string, v: number) => boolean) => [...statuses].filter(([k, v]) => pred(k, v)).length;
      const histogram = JSON.stringify(Object.fromEntries([...new Set(statuses.values())].map((v) => [v, count((_, x) => x === v)])));
      console.log(`# storm of ${users.length} new connections, 100 at a time: cold ${cold.toFixed(0)} ms, ${lookupOps(s) - lookupOps(s0)} LDAP operations in the warm storm (and ${(s.ldapOperations.byKind['healthCheck'] ?? 0) - (s0.ldapOperations.byKind['healthCheck'] ?? 0)} health checks of idle connections), ${seen} connections to the DC; statuses ${histogram}`);
      assert.equal(count((_, v) => v === 503), 0, 'no directory-unavailable refusals');
      assert.equal(count((k, v) => k.includes('storm0') && v === 200), 2 * SHAPE.users, `${histogram} ${JSON.stringify(s.domainControllers)}`);
      assert.equal(count((k, v) => k.includes('stormx') && v === 401), 2 * SHAPE.loose, 'in no allowed group: a concealed denial');
      assert.ok(seen <= cfg().pool.size, `connections to the DC: ${seen} (pool.size ${cfg().pool.size})`);
      assert.ok(s.lookups - s0.lookups >= users.length, 'every warm login looked its user up');
      assert.equal(s.lookups - s0.lookups - (s.cacheHits - s0.cacheHits), 0, 'every warm lookup answered from the cache');
      assert.equal(lookupOps(s) - lookupOps(s0), 0, 'the warm storm costs the DC nothing but health checks of idle connections');
    } finally {
      await env.stop();
    }
  });
});

// The storm's file directory must describe the same people the DC holds: a quick cross-check.
describe('storm population', () => {
  it('the YAML and the LDIF name the same users and memberships', () => {
    const y = directoryFileSchema.parse(parse(stormYaml({ users: 10, groups: 3, loose: 2 })));
    assert.equal(y.users.length, 12);
    assert.deepEqual(y.users[4]!.groups, ['Storm-02']);
    assert.deepEqual(y.groups[0], { name: 'Outlook-Remote', members: ['Storm-01', 'Storm-02', 'Storm-03'] });
    const ldif = execFileSync(process.execPath, ['--import', 'tsx', SCRIPTS + 'storm-users.ts', 'ldif', '10', '3', '2'], { encoding: 'utf8' });
    assert.equal((ldif.match(/^objectClass: user$/gm) ?? []).length, 12);
    assert.match(ldif, new RegExp(`dn: CN=Storm-02,${BASE}\\nchangetype: add\\nobjectClass: group\\nsAMAccountName: Storm-02\\ngroupType: -2147483646\\nmember: CN=storm0002,${BASE}\\nmember: CN=storm0005,`));
    assert.ok(readFileSync(SCRIPTS + 'samba-dc.sh', 'utf8').includes('storm-users.ts'));
  });
});
