// The admin console over real sockets (port 0): sign-in, roles, CSRF, rate limit, the record of
// every action, live connections, the access matrix, and that no gateway listener serves it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEnv, type Env } from './helpers/env.js';
import { RawClient } from '../src/doctor/http-probe.js';
import { CSP } from '../src/admin/console/respond.js';
import { bobsNotificationWait, consoleSection, postSignIn, signIn } from './helpers/console-client.js';

describe('admin console', () => {
  let env: Env;
  let admin: string;
  before(async () => {
    const section = await consoleSection(3);
    env = await startEnv({ lab: { mapi: { pendingPeriodMs: 60_000, notificationWaitMs: 60_000 } }, config: (b) => ({ ...b, admin: { ...(b['admin'] as object), console: section } }) });
    admin = env.runtime.admin!.url;
  });
  after(() => env.stop());

  it('sends everyone to the sign-in page; the session cookie is HttpOnly and SameSite=Strict; every page has the strict CSP', async () => {
    const r = await fetch(`${admin}/console/connections`, { redirect: 'manual' });
    assert.equal(r.status, 303);
    assert.equal(r.headers.get('location'), '/console/sign-in');
    const ok = await postSignIn(admin, 'operator', 'operator-test-pw');
    assert.equal(ok.status, 303);
    const cookie = ok.headers.getSetCookie().find((c) => c.startsWith('portcullis_console='))!;
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.doesNotMatch(cookie, /Secure/, 'plain HTTP admin listener');
    const op = await signIn(admin, 'operator');
    for (const p of ['/console/', '/console/connections', '/console/users', '/console/audit', '/console/policy']) {
      const page = await op.get(p);
      assert.equal(page.status, 200, p);
      assert.equal(page.headers.get('content-security-policy'), CSP, p);
      const text = await page.text();
      assert.doesNotMatch(text, /<script>|<style|style="|onclick=|javascript:/i, `${p}: no inline script or style`);
    }
    assert.equal((await fetch(`${admin}/api/connections`, { headers: { Cookie: op.cookie } })).status, 401, 'the JSON API still wants the bearer token');
  });

  it("shows bob's live NotificationWait; an operator revokes him with a reason: connection gone, record written with console:operator", async () => {
    const bob = await bobsNotificationWait(env.port, env.pki.ca);
    const op = await signIn(admin, 'operator');
    const table = await (await op.get('/console/connections/table?q=bob')).text();
    assert.match(table, /data-user="LAB\\bob"/);
    assert.match(table, /NotificationWait/);
    assert.match(table, /data-action="revoke"/);
    const refused = await op.post('/console/users/revoke', { user: 'LAB\\bob', reason: 'phone stolen' }, { csrf: null });
    assert.equal(refused.status, 403, 'no CSRF token');
    assert.equal((await op.post('/console/users/revoke', { user: 'LAB\\bob', reason: 'phone stolen' }, { csrf: 'wrong' })).status, 403);
    assert.equal(bob.closed, false);
    const r = await op.post('/console/users/revoke', { user: 'LAB\\bob', reason: 'phone stolen' });
    assert.equal(r.status, 200);
    assert.match(await r.text(), /LAB\\bob revoked: 1 connection\(s\) closed/);
    await bob.waitClosed(1000);
    assert.doesNotMatch(await (await op.get('/console/connections/table?q=bob')).text(), /data-user="LAB\\bob"/);
    await new Promise((res) => setTimeout(res, 500));
    const recs = await env.runtime.audit!.writer.store.query({ event: 'revoked' }, { order: 'desc', limit: 5 });
    assert.equal(recs[0]?.actor, 'console:operator');
    assert.equal(recs[0]?.text, 'phone stolen');
    assert.equal((await op.post('/console/users/unrevoke', { user: 'LAB\\bob' })).status, 200);
    const csv = await (await op.get('/console/audit.csv?event=revoked')).text();
    assert.match(csv.split('\r\n')[0]!, /^id,time,event/);
    assert.match(csv, /console:operator/);
  });

  it('a viewer sees no action buttons and every action POST is refused (403)', async () => {
    const bob = await bobsNotificationWait(env.port, env.pki.ca);
    const v = await signIn(admin, 'viewer');
    const table = await (await v.get('/console/connections/table')).text();
    assert.match(table, /data-user="LAB\\bob"/);
    assert.doesNotMatch(table, /data-action=/);
    for (const [path, form] of [['/console/users/revoke', { user: 'LAB\\bob', reason: 'x' }], ['/console/users/unlock', { user: 'LAB\\bob' }], ['/console/policy/reload', {}], ['/console/connections/close', { id: '1' }]] as const) {
      assert.equal((await v.post(path, form)).status, 403, path);
    }
    assert.equal(bob.closed, false);
    bob.close();
  });

  it('an operator closes one connection; the record names the operator', async () => {
    const bob = await bobsNotificationWait(env.port, env.pki.ca);
    const op = await signIn(admin, 'operator');
    const id = /data-user="LAB\\bob" data-id="(\d+)"/.exec(await (await op.get('/console/connections/table?q=bob')).text())![1]!;
    assert.equal((await op.post('/console/connections/close', { id })).status, 200);
    await bob.waitClosed(1000);
    await new Promise((res) => setTimeout(res, 500));
    const recs = await env.runtime.audit!.writer.store.query({ event: 'admin-action' }, { order: 'desc', limit: 1 });
    assert.equal(recs[0]?.actor, 'console:operator');
    assert.equal(recs[0]?.cause, 'close-connection');
  });

  it('erin: MAPI allowed and RPC denied from outside, with reasons; groups shown', async () => {
    const op = await signIn(admin, 'operator');
    assert.match(await (await op.get('/console/users?q=erin')).text(), /LAB\\erin/);
    const page = await (await op.get(`/console/users/view?user=${encodeURIComponent('LAB\\erin')}`)).text();
    const row = (p: string) => new RegExp(`<tr data-protocol="${p}"><th>${p}</th><td class="(allow|deny)"[^>]*>[^<]*<br><span class="mono">([^<]*)</span>`).exec(page);
    assert.equal(row('mapi')?.[1], 'allow');
    assert.equal(row('rpc')?.[1], 'deny');
    assert.ok(row('rpc')![2]!.length > 0, 'the denial has reasons');
    assert.match(page, /MAPI-Only/);
  });

  it('failed sign-ins are limited per account and on the record', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await postSignIn(admin, 'viewer', 'wrong')).status, 401);
    assert.equal((await postSignIn(admin, 'viewer', 'viewer-test-pw')).status, 429, 'even the right password waits');
    await new Promise((res) => setTimeout(res, 500));
    const recs = await env.runtime.audit!.writer.store.query({ event: 'console-sign-in', decision: 'deny' }, { order: 'asc' });
    assert.deepEqual(recs.filter((r) => r.user === 'viewer').map((r) => r.cause), ['bad-password', 'bad-password', 'bad-password', 'account-limited']);
  });

  it("an attacker on the operator's own address cannot lock the operator out: the browser the operator signed in from counts apart", async () => {
    const first = await postSignIn(admin, 'operator', 'operator-test-pw');
    assert.equal(first.status, 303);
    const device = first.headers.getSetCookie().find((c) => c.startsWith('portcullis_console_device='))!;
    assert.match(device, /; Path=\/console\/; Max-Age=2592000; HttpOnly; SameSite=Strict$/);
    const deviceCookie = device.split(';')[0]!;
    // The attacker: same loopback address, no cookie of the operator's (a forged one is worth nothing).
    for (let i = 0; i < 3; i++) assert.equal((await postSignIn(admin, 'operator', `guess-${i}`)).status, 401);
    assert.equal((await postSignIn(admin, 'operator', 'operator-test-pw')).status, 429, 'the attacker is stopped');
    assert.equal((await postSignIn(admin, 'operator', 'operator-test-pw', [`portcullis_console_device=${'A'.repeat(22)}.${'B'.repeat(43)}`])).status, 429);
    assert.equal((await postSignIn(admin, 'operator', 'operator-test-pw', [deviceCookie])).status, 303, "the operator's browser signs in");
  });

  it('is never served by a gateway listener: /console/ there is refused like any unpublished path', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    const consolePath = await c.request('GET', '/console/', {});
    const c2 = await RawClient.connect(env.port, env.pki.ca);
    const other = await c2.request('GET', '/no-such-vdir/', {});
    assert.equal(consolePath.head.status, other.head.status);
    assert.ok(consolePath.head.status >= 400);
    assert.doesNotMatch(consolePath.body.toString(), /Portcullis console|sign-in/i);
    c.close();
    c2.close();
  });
});
