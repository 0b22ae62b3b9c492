// Issue 12, done-when: a run of the demo leaves an audit trail that answers "who connected from
// where to what, and why" for alice, bob, carol and a password spray, through `portcullis audit`.
// The lab and the gateway run with the demo's directory and policy; the CLI runs as a separate
// process against the gateway's config, as an admin would run it.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { StoredRecord } from '../src/audit/audit-record.js';
import { RawClient } from '../src/doctor/http-probe.js';
import { NEGOTIATE, authenticateFor } from '../src/doctor/ntlm-client.js';
import { type Env, adminHeaders, startEnv } from './helpers/env.js';

const run = promisify(execFile);
const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
/** The spray comes from its own loopback address, so "from where" tells it apart. */
const SPRAYER = '127.0.0.66';

async function ntlm(env: Env, path: string, user: string) {
  const c = await RawClient.connect(env.port, env.pki.ca);
  const r1 = await c.request('GET', path, { Authorization: `NTLM ${NEGOTIATE.toString('base64')}` });
  const challenge = /^NTLM (\S+)/.exec(r1.header('www-authenticate') ?? '')![1]!;
  const r2 = await c.request('GET', path, { Authorization: `NTLM ${await authenticateFor(challenge, user, 'LAB', 'Passw0rd!')}` });
  return { status: r2.head.status, c };
}

function sprayOne(env: Env, user: string, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: env.port,
        localAddress: SPRAYER,
        servername: 'mail.lab.example',
        ca: env.pki.ca,
        agent: false,
        path: '/owa/',
        headers: { Host: 'mail.lab.example', Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function audit(env: Env, ...args: string[]): Promise<string> {
  const r = await run(process.execPath, ['--import', 'tsx', MAIN, 'audit', '-c', env.configFile, ...args], { cwd: new URL('..', import.meta.url).pathname });
  return r.stdout;
}

async function records(env: Env, ...args: string[]): Promise<StoredRecord[]> {
  return (await audit(env, '--format', 'jsonl', ...args)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as StoredRecord);
}

describe('the demo leaves an audit trail: who connected from where to what, and why', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ config: (b) => ({ ...b, lockout: { threshold: 3, window: '15m', cooldown: '15m' } }) });
    // alice reads her mail from outside: allowed by outlook-remote.
    const alice = await ntlm(env, '/owa/', 'alice');
    assert.equal(alice.status, 200);
    alice.c.close();
    // carol tries EWS from outside: refused before her password reaches Exchange.
    const carol = await ntlm(env, '/EWS/Exchange.asmx', 'carol');
    assert.equal(carol.status, 401);
    carol.c.close();
    // bob is connected when the admin revokes him; his next attempt is refused.
    const bob = await ntlm(env, '/owa/', 'bob');
    assert.equal(bob.status, 200);
    const res = await fetch(`${env.runtime.admin!.url}/api/revoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\bob', reason: 'left the company' }) });
    assert.equal(res.status, 200);
    await bob.c.waitClosed(5000);
    const again = await ntlm(env, '/owa/', 'bob');
    assert.equal(again.status, 401);
    again.c.close();
    // A password spray from another address: one password against many names, then more on alice.
    for (const u of ['LAB\\alice', 'LAB\\bob', 'LAB\\carol', 'LAB\\dave', 'LAB\\administrator']) assert.equal(await sprayOne(env, u, 'Winter2026!'), 401);
    for (let i = 0; i < 3; i++) assert.equal(await sprayOne(env, 'LAB\\alice', `Winter202${i}!`), 401);
    // Everything the gateway saw is committed within a commit interval.
    await new Promise((r) => setTimeout(r, 200));
    await env.runtime.audit!.writer.flush();
  });
  after(() => env.stop());

  it('alice: bound from 127.0.0.1 to OWA by rule outlook-remote, the connection closed with its bytes, then locked out by the spray', async () => {
    const rows = await records(env, '--user', 'alice');
    const bound = rows.find((r) => r.event === 'identity-bound')!;
    assert.deepEqual(
      { user: bound.user, scheme: bound.scheme, ip: bound.clientIp, zone: bound.zone, listener: bound.listener, protocol: bound.protocol, reasons: bound.reasons, rule: bound.rule, decision: bound.decision },
      { user: 'LAB\\alice', scheme: 'ntlm', ip: '127.0.0.1', zone: 'external', listener: 'external', protocol: 'owa', reasons: ['group-ok'], rule: 'outlook-remote', decision: 'allow' },
    );
    assert.ok(bound.clientPort! > 0);
    const closed = rows.find((r) => r.event === 'connection-closed' && r.connection === bound.connection)!;
    assert.equal(closed.requests, 2);
    assert.ok(closed.bytesIn! > 0 && closed.bytesOut! > 0 && closed.durationMs! >= 0);
    assert.ok(closed.cause);
    assert.ok(rows.some((r) => r.event === 'locked-out' && r.user?.toLowerCase() === 'lab\\alice'), 'the spray locked alice out externally');
    assert.equal(rows.filter((r) => r.event === 'login-failed' && r.clientIp === SPRAYER).length, 3, 'threshold 3: three guesses reached Exchange');
    assert.ok(rows.some((r) => r.event === 'denied' && r.clientIp === SPRAYER && r.reasons?.includes('locked-out')), 'the guess after the lockout is refused as locked-out');
  });

  it('carol: refused at the NTLM step with her claimed name, the reasons and the reference id she was shown', async () => {
    const rows = await records(env, '--user', 'LAB\\carol', '--ip', '127.0.0.1');
    assert.equal(rows.length, 1);
    const d = rows[0]!;
    assert.deepEqual(
      { event: d.event, decision: d.decision, user: d.user, scheme: d.scheme, protocol: d.protocol, status: d.status, cause: d.cause },
      { event: 'denied', decision: 'deny', user: 'LAB\\carol', scheme: 'ntlm', protocol: 'ews', status: 401, cause: 'concealed' },
    );
    assert.ok(d.reasons?.includes('not-in-group'));
    assert.match(d.ref ?? '', /^[0-9a-f]{12}$/);
  });

  it('bob: bound, revoked by the admin with the reason, his connection closed, the next attempt refused as revoked', async () => {
    const all = await records(env, '--user', 'bob');
    const rows = all.filter((r) => r.clientIp === '127.0.0.1');
    const revoked = all.find((r) => r.event === 'revoked')!;
    assert.deepEqual([revoked.actor, revoked.text], ['admin', 'left the company']);
    assert.match(revoked.cause ?? '', /1 connection\(s\) closed/);
    assert.deepEqual(
      rows.map((r) => [r.event, r.decision ?? '', r.event === 'connection-closed' ? r.cause : (r.reasons ?? []).join(',')]),
      [
        ['identity-bound', 'allow', 'group-ok'],
        ['connection-closed', '', 'access-withdrawn'],
        ['denied', 'deny', rows.find((r) => r.event === 'denied')!.reasons!.join(',')],
      ],
    );
    assert.ok(rows.find((r) => r.event === 'denied')!.reasons!.includes('revoked'));
  });

  it('the spray: every name tried from its address, refused, none let in', async () => {
    const rows = await records(env, '--ip', SPRAYER);
    assert.ok(rows.length >= 8);
    assert.equal(rows.filter((r) => r.decision === 'allow').length, 0);
    const names = new Set(rows.filter((r) => r.event !== 'locked-out').map((r) => r.user?.toLowerCase()));
    for (const u of ['alice', 'bob', 'carol', 'dave', 'administrator']) assert.ok(names.has(`lab\\${u}`), `${u} tried`);
    const why = new Map(rows.map((r) => [r.user?.toLowerCase(), r]));
    assert.ok(why.get('lab\\bob')!.reasons?.includes('revoked'), 'bob: revoked, even with a wrong password');
    assert.ok(why.get('lab\\carol')!.reasons?.includes('not-in-group'));
    assert.ok(rows.every((r) => r.event === 'locked-out' || r.protocol === 'owa'));
  });

  it('--follow prints records as the gateway writes them', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'audit', '-c', env.configFile, '--follow', '--format', 'jsonl', '--event', 'unlocked'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      // Let it print the (empty) history and start polling, then unlock alice.
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(out, '');
      const res = await fetch(`${env.runtime.admin!.url}/api/unlock`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\alice' }) });
      assert.equal(res.status, 200);
      const t0 = Date.now();
      while (!out.includes('\n') && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
      const rec = JSON.parse(out.split('\n')[0]!) as StoredRecord;
      assert.deepEqual([rec.event, rec.user?.toLowerCase(), rec.actor], ['unlocked', 'lab\\alice', 'admin']);
    } finally {
      child.kill();
    }
  });

  it('as a table and as CSV, with filters combined', async () => {
    const table = (await audit(env, '--decision', 'deny', '--protocol', 'ews')).trimEnd().split('\n');
    assert.match(table[0]!, /^TIME \(UTC\) +EVENT +DECISION +USER +SCHEME +CLIENT +ZONE +PROTOCOL +STATUS +WHY$/);
    assert.equal(table.length, 2);
    assert.match(table[1]!, /denied +deny +LAB\\carol +ntlm +127\.0\.0\.1:\d+ +external ews +401 +.*not-in-group.*; concealed; ref [0-9a-f]{12}$/);
    const csv = (await audit(env, '--format', 'csv', '--event', 'identity-bound')).trimEnd().split('\n');
    assert.equal(csv.length, 3, 'header, alice, bob');
    assert.ok(csv[0]!.startsWith('id,time,event,decision,user,'));
  });
});
