// `portcullis serve` with two worker processes: connections land on both, and revocation,
// smart lockout and a replaced worker behave as with one process (state lives in the primary).
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { RawClient } from '../src/doctor/http-probe.js';
import { type Lab } from '../src/lab/lab-server.js';
import { DEMO_DIRECTORY, DEMO_POLICY, type Pki, testPki, demoLab } from './helpers/env.js';
import { type Served, readyAt, serve, stopServed } from './helpers/served.js';

// erin (MAPI-Only) may use EWS from outside, not OWA.
const EWS = '/EWS/Exchange.asmx';
const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('worker processes (workers: 2)', () => {
  let pki: Pki;
  let lab: Lab;
  let gw: Served;
  let port = 0;
  let admin = '';
  let config = '';
  // The primary generated the admin token next to the config at its start.
  const headers = () => ({ Authorization: `Bearer ${readFileSync(path.join(path.dirname(config), 'admin.token'), 'utf8').trim()}`, 'Content-Type': 'application/json' });
  const api = async (p: string, body?: unknown) => (await fetch(`${admin}${p}`, body ? { method: 'POST', headers: headers(), body: JSON.stringify(body) } : { headers: headers() })).json() as Promise<never>;
  const owa = async (auth: string, where = '/owa/') => {
    const c = await RawClient.connect(port, pki.ca);
    const r = await c.request('GET', where, { Authorization: auth });
    return { c, status: r.head.status };
  };

  before(async () => {
    pki = await testPki();
    lab = await demoLab(pki);
    const dir = mkdtempSync(path.join(pki.dir, 'workers-'));
    copyFileSync(DEMO_DIRECTORY, path.join(dir, 'directory.yaml'));
    config = path.join(dir, 'portcullis.yaml');
    writeFileSync(
      config,
      stringify({
        workers: 2,
        listeners: [{ address: '127.0.0.1', port: 0, zone: 'external', tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
        upstream: { url: lab.url, tls: { ca: pki.caFile } },
        directory: { provider: 'file', file: path.join(dir, 'directory.yaml') },
        policy: DEMO_POLICY,
        lockout: { threshold: 3, window: '15m', cooldown: '15m' },
        admin: { address: '127.0.0.1', port: 0 },
        log: { level: 'info' },
      }),
    );
    gw = serve(config);
    ({ port, admin } = await readyAt(gw));
  });
  after(async () => {
    await stopServed(gw);
    await lab.stop();
  });

  it('connections are spread over both workers and listed together by the admin endpoint', async () => {
    const conns = await Promise.all(Array.from({ length: 6 }, () => owa(basic('LAB\\alice'))));
    assert.deepEqual(conns.map((c) => c.status), [200, 200, 200, 200, 200, 200]);
    const list = await api('/api/connections') as Array<{ worker: number; user: string }>;
    assert.equal(list.filter((c) => c.user === 'LAB\\alice').length, 6);
    assert.deepEqual([...new Set(list.map((c) => c.worker))].sort(), [1, 2]);
    const stats = (await api('/api/stats')) as Array<{ worker: number; connections: { accepted: number; open: number } }>;
    assert.deepEqual(stats.map((x) => x.worker).sort(), [1, 2], 'connection counters from every worker');
    assert.equal(stats.reduce((a, x) => a + x.connections.accepted, 0) >= 6, true);
    conns.forEach((c) => c.c.close());
  });

  it('one scrape of /metrics adds up every worker; every request line names the client', async () => {
    const scrape = async () => {
      const text = await (await fetch(`${admin}/metrics`, { headers: headers() })).text();
      const m = /^portcullis_requests_total\{protocol="owa",zone="external",decision="allow",reason=""\} (\d+)$/m.exec(text);
      return { text, owa: Number(m?.[1] ?? 0) };
    };
    const before = await scrape();
    const conns = await Promise.all(Array.from({ length: 6 }, () => owa(basic('LAB\\alice'))));
    const list = (await api('/api/connections')) as Array<{ worker: number }>;
    assert.deepEqual([...new Set(list.map((c) => c.worker))].sort(), [1, 2], 'the requests were served by both workers');
    const after = await scrape();
    assert.equal(after.owa - before.owa, 6, 'requests of both workers are in the one exposition');
    assert.match(after.text, /^portcullis_revocations_total \d+$/m, "the primary's own series are in it too");
    const ready = await fetch(`${admin}/readyz`);
    assert.equal(ready.status, 200);
    const checks = ((await ready.json()) as { checks: Record<string, { ok: boolean }> }).checks;
    assert.deepEqual(Object.keys(checks).sort(), ['audit', 'directory', 'state', 'upstream', 'workers'], 'the primary also checks that its workers run (and its audit trail and state store)');
    conns.forEach((c) => c.c.close());
    const line = gw.lines.find((l) => l['msg'] === 'request' && l['path'] === '/owa/');
    assert.ok(line, 'request lines are logged by the workers');
    assert.equal(line['client'], '127.0.0.1');
    assert.ok(Number(line['clientPort']) > 0);
  });

  it("a revocation cuts the user's connections on every worker and only theirs", async () => {
    const bobs = await Promise.all(Array.from({ length: 4 }, () => owa(basic('LAB\\bob'))));
    const alice = await owa(basic('LAB\\alice'));
    assert.ok(bobs.every((b) => b.status === 200));
    const r = await api('/api/revoke', { user: 'LAB\\bob' }) as { closedConnections: number };
    assert.equal(r.closedConnections, 4);
    await Promise.all(bobs.map((b) => b.c.waitClosed(2_000)));
    assert.equal(alice.c.closed, false);
    const again = await Promise.all(Array.from({ length: 4 }, () => owa(basic('LAB\\bob'))));
    assert.deepEqual(again.map((a) => a.status), [401, 401, 401, 401], 'refused by both workers (concealed: a new connection proved nothing)');
    alice.c.close();
  });

  it('failed logins on different workers add up to one lockout', async () => {
    for (let i = 0; i < 3; i++) {
      const a = await owa(basic('LAB\\erin', 'wrong'), EWS);
      assert.equal(a.status, 401);
      a.c.close();
    }
    await new Promise((r) => setTimeout(r, 100)); // the lock travels primary -> workers over IPC
    const seenBefore = lab.state.log.length;
    const tries = await Promise.all(Array.from({ length: 4 }, () => owa(basic('LAB\\erin'), EWS)));
    assert.deepEqual(tries.map((t) => t.status), [401, 401, 401, 401], 'the right password is refused on both workers');
    assert.ok(lab.state.log.slice(seenBefore).every((e) => e.claimedUser === undefined), 'no credential of a locked-out user reaches Exchange');
    const locks = await api('/api/lockouts') as Array<{ key: string; lockedUntil?: number }>;
    assert.ok(locks.some((l) => l.key === 'LAB\\erin' && l.lockedUntil));
  });

  it('a worker that dies is replaced, and the new one knows every revocation and lock', async () => {
    const kids = readFileSync(`/proc/${gw.proc.pid}/task/${gw.proc.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    assert.equal(kids.length, 2);
    process.kill(kids[0]!, 'SIGKILL');
    await gw.waitFor((l) => l['msg'] === 'gateway worker died; its connections are lost, starting a new one');
    await gw.waitFor((l) => l['msg'] === 'listening' && gw.lines.filter((x) => x['msg'] === 'listening').length >= 3);
    const bobs = await Promise.all(Array.from({ length: 4 }, () => owa(basic('LAB\\bob'))));
    const erins = await Promise.all(Array.from({ length: 4 }, () => owa(basic('LAB\\erin'), EWS)));
    assert.deepEqual([...bobs, ...erins].map((a) => a.status), Array(8).fill(401));
    const alices = await Promise.all(Array.from({ length: 4 }, () => owa(basic('LAB\\alice'))));
    assert.deepEqual(alices.map((a) => a.status), [200, 200, 200, 200]);
    const list = await api('/api/connections') as Array<{ worker: number }>;
    assert.equal(new Set(list.map((c) => c.worker)).size, 2, 'both workers serve again');
    [...bobs, ...erins, ...alices].forEach((a) => a.c.close());
  });

  it('a reload reaches every worker; a broken file is refused and the running config stays', async () => {
    const good = readFileSync(config, 'utf8');
    writeFileSync(config, `${good}\nlisteners: [oops\n`);
    const bad = await fetch(`${admin}/api/reload`, { method: 'POST', headers: headers() });
    assert.equal(bad.status, 422);
    assert.equal((await owa(basic('LAB\\alice'))).status, 200, 'still serving with the previous configuration');
    // dave (Mobile-Only) gets OWA from outside once the mobile rule lists it.
    const before = await Promise.all(Array.from({ length: 4 }, () => owa(basic('LAB\\dave'))));
    assert.deepEqual(before.map((b) => b.status), [401, 401, 401, 401]);
    writeFileSync(config, good.replace(/- eas\n(\s+)(groups:\n\s+- Mobile-Only)/, '- eas\n$1  - owa\n$1$2'));
    assert.notEqual(readFileSync(config, 'utf8'), good, 'the policy edit applied');
    assert.deepEqual(await api('/api/reload', {}), { reloaded: true });
    const after = await Promise.all(Array.from({ length: 4 }, () => owa(basic('LAB\\dave'))));
    assert.deepEqual(after.map((a) => a.status), [200, 200, 200, 200], 'both workers took the new policy');
    [...before, ...after].forEach((a) => a.c.close());
  });

  it('wrong passwords fired at both workers at once reach Exchange at most `threshold` times (issue #10)', async () => {
    // Connections first, then every request at once: the lock must not be checked at one time and
    // counted at another. Old code: all 40 reached Exchange.
    const conns = await Promise.all(Array.from({ length: 40 }, () => RawClient.connect(port, pki.ca)));
    const seenBefore = lab.state.log.length;
    const answers = await Promise.all(conns.map((c) => c.request('POST', EWS, { Authorization: basic('LAB\\alice', 'guess') }, '<x/>')));
    const guesses = lab.state.log.slice(seenBefore).filter((e) => e.claimedUser?.toLowerCase().includes('alice')).length;
    console.log(`# 40 concurrent wrong passwords over 2 workers: ${guesses} reached Exchange (threshold 3)`);
    assert.ok(guesses <= 3, `${guesses} guesses reached Exchange`);
    assert.ok(answers.every((a) => a.head.status === 401));
    conns.forEach((c) => c.close());
  });

  it('SIGTERM stops the primary and its workers', async () => {
    const kids = readFileSync(`/proc/${gw.proc.pid}/task/${gw.proc.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    const exited = new Promise<number | null>((r) => gw.proc.once('exit', (code) => r(code)));
    gw.proc.kill('SIGTERM');
    assert.equal(await exited, 0);
    for (const k of kids) assert.throws(() => process.kill(k, 0), /ESRCH/, `worker ${k} is gone`);
  });
});
