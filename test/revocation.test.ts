import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { adminHeaders, startEnv, RPC_TARGET } from './helpers/env.js';
import { RawClient } from '../src/doctor/http-probe.js';


const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const mapiHeaders = (type: string, cookie?: string) =>
  `Authorization: ${basic('LAB\\bob')}\r\nContent-Type: application/mapi-http\r\nX-RequestType: ${type}\r\nX-RequestId: {E2EA6C1C-E61B-49E9-9CFB-38184F907552}:1\r\nX-ClientInfo: {2F94A2BF-A2E6-4CCC-BF98-B5F22C542226}:1\r\n${cookie ? `Cookie: ${cookie}\r\n` : ''}`;

/** bob's live NotificationWait and live RPC channel, both waiting on the lab. */
async function bobsLiveConnections(port: number, ca: string) {
  const mapi = await RawClient.connect(port, ca);
  mapi.write(`POST /mapi/emsmdb/?MailboxId=x@lab.example HTTP/1.1\r\nHost: x\r\n${mapiHeaders('Connect')}Content-Length: 4\r\n\r\nabcd`);
  const connect = await mapi.read('POST');
  assert.equal(connect.header('x-responsecode'), '0');
  const cookie = connect.head.headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value.split(';')[0]).join('; ');
  mapi.write(`POST /mapi/emsmdb/?MailboxId=x@lab.example HTTP/1.1\r\nHost: x\r\n${mapiHeaders('NotificationWait', cookie)}Content-Length: 8\r\n\r\n${'\0'.repeat(8)}`);
  const rpc = await RawClient.connect(port, ca);
  rpc.write(`RPC_IN_DATA /rpc/rpcproxy.dll?${RPC_TARGET} HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('LAB\\bob')}\r\nExpect: 100-continue\r\nContent-Length: 1073741824\r\n\r\n`);
  assert.equal((await rpc.read('RPC_IN_DATA', 5000, true)).head.status, 100);
  await new Promise((r) => setTimeout(r, 200)); // the NotificationWait is now held by the lab
  assert.equal(mapi.closed || rpc.closed, false);
  return { mapi, rpc };
}

describe('live revocation', () => {
  it("removing Sales from Outlook-Remote closes bob's NotificationWait and RPC channel within 1 s", async () => {
    const env = await startEnv({ watch: true, lab: { mapi: { pendingPeriodMs: 60_000, notificationWaitMs: 60_000 } } });
    try {
      const { mapi, rpc } = await bobsLiveConnections(env.port, env.pki.ca);
      const alice = await RawClient.connect(env.port, env.pki.ca);
      assert.equal((await alice.request('GET', '/owa/', { Authorization: basic('LAB\\alice') })).head.status, 200);
      const t0 = Date.now();
      const text = readFileSync(env.directoryFile, 'utf8').replace(/members: \[Sales\]/, 'members: []');
      assert.notEqual(text, readFileSync(env.directoryFile, 'utf8'));
      writeFileSync(env.directoryFile, text);
      await Promise.all([mapi.waitClosed(1_000), rpc.waitClosed(1_000)]);
      const ms = Date.now() - t0;
      console.log(`# revocation latency (file change written -> bob's last connection closed): ${ms} ms`);
      assert.ok(ms < 1_000);
      // alice stays allowed and her connection stays open.
      assert.equal(alice.closed, false);
      assert.equal((await alice.request('GET', '/owa/', { Authorization: basic('LAB\\alice') })).header('x-lab-identity'), 'LAB\\alice');
      alice.close();
    } finally {
      await env.stop();
    }
  });

  it('`portcullis revoke` through the admin endpoint cuts a user at once, and undo lets them back', async () => {
    const env = await startEnv({ lab: { mapi: { pendingPeriodMs: 60_000, notificationWaitMs: 60_000 } } });
    try {
      const { mapi, rpc } = await bobsLiveConnections(env.port, env.pki.ca);
      const admin = env.runtime.admin!.url;
      const bad = await fetch(`${admin}/api/revoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\bob', minutes: -5 }) });
      assert.equal(bad.status, 400, 'a negative duration is refused, not turned into a revocation that expires at once');
      assert.equal(mapi.closed || rpc.closed, false);
      const t0 = Date.now();
      const res = await fetch(`${admin}/api/revoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'bob@lab.example', reason: 'laptop stolen' }) });
      const body = (await res.json()) as { closedConnections: number };
      await Promise.all([mapi.waitClosed(1_000), rpc.waitClosed(1_000)]);
      console.log(`# revoke via admin endpoint: ${body.closedConnections} connections closed, ${Date.now() - t0} ms`);
      assert.equal(body.closedConnections, 2);
      const again = await RawClient.connect(env.port, env.pki.ca);
      const denied = await again.request('GET', '/owa/', { Authorization: basic('LAB\\bob') });
      // A new connection has proven nothing: the refusal looks like a wrong password (concealed).
      assert.equal(denied.head.status, 401);
      assert.equal(denied.header('x-portcullis-reason'), undefined);
      await fetch(`${admin}/api/unrevoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\bob' }) });
      const back = await RawClient.connect(env.port, env.pki.ca);
      assert.equal((await back.request('GET', '/owa/', { Authorization: basic('LAB\\bob') })).head.status, 200);
      back.close();
    } finally {
      await env.stop();
    }
  });
});

describe('hot reload', () => {
  it('a broken config keeps the old one serving; a fixed one applies without dropping allowed connections', async () => {
    const env = await startEnv({ watch: true });
    try {
      const alice = await RawClient.connect(env.port, env.pki.ca);
      assert.equal((await alice.request('GET', '/owa/', { Authorization: basic('LAB\\alice') })).head.status, 200);
      const good = readFileSync(env.configFile, 'utf8');
      writeFileSync(env.configFile, good.replace('policy:', 'policy:\n  bogus: 1'));
      await new Promise((r) => setTimeout(r, 600));
      assert.equal((await alice.request('GET', '/owa/', { Authorization: basic('LAB\\alice') })).head.status, 200, 'still serving');
      assert.equal(await env.runtime.reload(), false);
      // Allow carol's group-less account OWA from outside: applies within a second, alice stays connected.
      writeFileSync(env.configFile, good.replace('rules:', 'rules:\n    - { name: carol-owa, effect: allow, protocols: [owa], users: [LAB\\carol] }'));
      const t0 = Date.now();
      let status = 0;
      while (Date.now() - t0 < 1_000) {
        const c = await RawClient.connect(env.port, env.pki.ca);
        status = (await c.request('GET', '/owa/', { Authorization: basic('LAB\\carol') })).head.status;
        c.close();
        if (status === 200) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      console.log(`# config change applied in ${Date.now() - t0} ms`);
      assert.equal(status, 200);
      assert.equal(alice.closed, false);
      assert.equal((await alice.request('GET', '/owa/', { Authorization: basic('LAB\\alice') })).header('x-lab-identity'), 'LAB\\alice');
      alice.close();
    } finally {
      await env.stop();
    }
  });
});
