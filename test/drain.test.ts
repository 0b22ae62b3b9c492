// Shutdown drains (issue #10): an upload in flight finishes, idle connections close at once, new
// connections are refused, and long-lived channels are closed at the drain deadline. Old code: a
// stop cut every connection, the upload included.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { RawClient } from '../src/doctor/http-probe.js';
import { paddingPdu } from '../src/lab/rts.js';
import { type ConnectionClosedEvent, type DrainEvent, events, on } from '../src/events.js';
import { startEnv, testPki, DEMO_POLICY, RPC_TARGET } from './helpers/env.js';
import { mapiHeaders } from './helpers/mapi.js';
import { serve } from './helpers/served.js';

const basic = `Basic ${Buffer.from('LAB\\alice:Passw0rd!').toString('base64')}`;
const mapi = (type: string, cookie?: string) => mapiHeaders(basic, type, cookie);
const MAPI = '/mapi/emsmdb/?MailboxId=x@lab.example';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('drain on shutdown', () => {
  it('lets the exchange in flight finish, closes idle connections at once and long polls at the deadline', async () => {
    const env = await startEnv({
      lab: { mapi: { pendingPeriodMs: 60_000, notificationWaitMs: 60_000 } },
      config: (b) => ({ ...b, http: { drainTimeout: '1500ms' } }),
    });
    const closes: ConnectionClosedEvent[] = [];
    const drains: DrainEvent[] = [];
    const offClosed = on(events.connectionClosed, (e) => closes.push(e));
    const offDrain = on(events.drain, (e) => drains.push(e));
    const idle = await RawClient.connect(env.port, env.pki.ca);
    assert.equal((await idle.request('GET', '/owa/', { Authorization: basic })).head.status, 200);
    const poll = await RawClient.connect(env.port, env.pki.ca);
    const c = await poll.request('POST', MAPI, mapi('Connect'), Buffer.alloc(40));
    const cookie = c.head.headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value.split(';')[0]).join('; ');
    poll.write(`POST ${MAPI} HTTP/1.1\r\nHost: x\r\n${Object.entries(mapi('NotificationWait', cookie)).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Content-Length: 8\r\n\r\n${'\0'.repeat(8)}`);
    const upload = await RawClient.connect(env.port, env.pki.ca);
    const body = 'x'.repeat(200_000);
    upload.write(`POST /owa/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 100_000)}`);
    await new Promise((r) => setTimeout(r, 100));

    const t0 = Date.now();
    const stopped = env.runtime.stop({ drain: true }).then(() => Date.now() - t0);
    await idle.waitClosed(500);
    assert.ok(await refused(env.port), 'no new connection is accepted while draining');
    await new Promise((r) => setTimeout(r, 300));
    upload.write(body.slice(100_000));
    const answer = await upload.read('POST');
    assert.equal(answer.header('x-lab-identity'), 'LAB\\alice', 'the upload finished and was answered');
    assert.equal(answer.header('connection'), 'close');
    await poll.waitClosed(3_000);
    const ms = await stopped;
    console.log(`# drain: stop took ${ms} ms (drainTimeout 1500 ms), the upload finished, the long poll was cut at the deadline`);
    assert.ok(ms >= 1_400 && ms < 3_000, `stop took ${ms} ms`);
    offClosed();
    offDrain();
    // On the record (what the audit trail keeps): idle closed by the drain, the long poll at its deadline.
    assert.deepEqual(closes.map((e) => [e.cause, e.protocol]).sort(), [['drain', 'owa'], ['drain', 'owa'], ['drain-timeout', 'mapi']]);
    assert.deepEqual(drains.map((d) => [d.phase, d.deadlineMs]), [['started', 1500], ['finished', 1500]]);
    await env.lab.stop();
  });

  it('SIGTERM: /readyz 503 at once, the upload finishes, the RPC channel and the NotificationWait are cut at the deadline on the record, exit 0', async () => {
    const env = await startEnv({ lab: { mapi: { pendingPeriodMs: 60_000, notificationWaitMs: 60_000 } } });
    const pki = await testPki();
    const dir = mkdtempSync(path.join(pki.dir, 'drain-'));
    const config = path.join(dir, 'portcullis.yaml');
    writeFileSync(
      config,
      stringify({
        listeners: [{ address: '127.0.0.1', port: 0, zone: 'external', tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
        upstream: { url: env.lab.url, tls: { ca: pki.caFile } },
        directory: { provider: 'file', file: env.directoryFile },
        policy: DEMO_POLICY,
        http: { drainTimeout: '2s' },
        admin: { address: '127.0.0.1', port: 0 },
        log: { level: 'info' },
      }),
    );
    const gw = serve(config);
    try {
      const ready = await gw.waitFor((l) => l['msg'] === 'listening');
      const port = ready['port'] as number;
      const admin = `http://127.0.0.1:${(await gw.waitFor((l) => l['msg'] === 'admin endpoint listening'))['port']}`;
      assert.equal((await fetch(`${admin}/readyz`)).status, 200);
      // A long-lived RPC_IN_DATA channel (1 GiB announced, a few bytes sent) ...
      const rpc = await RawClient.connect(port, pki.ca);
      rpc.write(`RPC_IN_DATA /rpc/rpcproxy.dll?${RPC_TARGET} HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\nExpect: 100-continue\r\nContent-Length: ${1024 ** 3}\r\n\r\n`);
      assert.equal((await rpc.read('RPC_IN_DATA', 5000, true)).head.status, 100);
      rpc.write(paddingPdu(1000));
      // ... a MAPI NotificationWait held by Exchange ...
      const poll = await RawClient.connect(port, pki.ca);
      const c = await poll.request('POST', MAPI, mapi('Connect'), Buffer.alloc(40));
      const cookie = c.head.headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value.split(';')[0]).join('; ');
      poll.write(`POST ${MAPI} HTTP/1.1\r\nHost: x\r\n${Object.entries(mapi('NotificationWait', cookie)).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Content-Length: 8\r\n\r\n${'\0'.repeat(8)}`);
      // ... and an upload in flight.
      const upload = await RawClient.connect(port, pki.ca);
      const body = 'y'.repeat(50_000);
      upload.write(`POST /owa/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
      await new Promise((r) => setTimeout(r, 200));
      const exited = new Promise<number | null>((r) => gw.proc.once('exit', (code) => r(code)));
      const t0 = Date.now();
      gw.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));
      const readyz = await fetch(`${admin}/readyz`);
      assert.equal(readyz.status, 503, 'not ready at once');
      const why = (await readyz.json()) as { draining: boolean; checks: Record<string, { ok: boolean; cause?: string }> };
      assert.equal(why.draining, true);
      assert.match(why.checks['draining']!.cause ?? '', /shutting down/);
      assert.ok(await refused(port), 'no new connection is accepted');
      upload.write(body.slice(10));
      const answer = await upload.read('POST');
      assert.equal(answer.header('x-lab-identity'), 'LAB\\alice', 'the exchange in flight finished');
      await rpc.waitClosed(4_000);
      await poll.waitClosed(4_000);
      const cutAfter = Date.now() - t0;
      assert.ok(cutAfter >= 1_800, `long-lived exchanges were cut at the deadline, not before (${cutAfter} ms)`);
      assert.equal(await exited, 0);
      const cut = gw.lines.filter((l) => l['msg'] === 'connection closed at the drain deadline');

      assert.deepEqual(cut.map((l) => l['protocol']).sort(), ['mapi', 'rpc'], 'one line per long-lived exchange cut, with its protocol');
      assert.ok(cut.every((l) => l['cause'] === 'drain-timeout' && l['user'] === 'LAB\\alice' && l['client'] === '127.0.0.1'));
      console.log(`# SIGTERM drain: /readyz 503 within 100 ms, upload finished, RPC channel and NotificationWait cut after ${cutAfter} ms (drainTimeout 2000 ms), exit 0`);
    } finally {
      if (gw.proc.exitCode === null) gw.proc.kill('SIGKILL');
      await env.stop();
    }
  });
});
