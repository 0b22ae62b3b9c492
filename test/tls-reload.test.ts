// Issue #13: certificates, keys and listeners change without a restart. A renewal written over the
// certificate files (file watch), a POST /api/reload and a SIGHUP each reach new handshakes, while
// an RPC channel and a MAPI NotificationWait opened before the swap keep working after it.
import assert from 'node:assert/strict';
import { X509Certificate as X509 } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { RawClient } from '../src/doctor/http-probe.js';
import { issueServerCert } from '../src/lab/certs.js';
import { adminHeaders, type Env, type Pki, startEnv, testPki } from './helpers/env.js';
import { mapiHeaders } from './helpers/mapi.js';
import { completeWithInChannel, openOutChannel } from './helpers/rpc-channel.js';

const basic = `Basic ${Buffer.from('LAB\\alice:Passw0rd!').toString('base64')}`;
const MAPI = '/mapi/emsmdb/?MailboxId=x@lab.example';

interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

/** A copy of the gateway certificate in a folder of its own, so the test can replace it. */
function ownCertificate(pki: Pki): CertFiles {
  const dir = mkdtempSync(path.join(pki.dir, 'tls-reload-'));
  const files = { cert: path.join(dir, 'gateway.crt'), key: path.join(dir, 'gateway.key') };
  copyFileSync(pki.gatewayCert, files.cert);
  copyFileSync(pki.gatewayKey, files.key);
  return files;
}

/** Writes a newly issued certificate over `files` the way renewal clients do: a new file renamed over the old. */
async function renew(pki: Pki, files: CertFiles, o: { mismatchedKey?: boolean } = {}): Promise<string> {
  const fresh = await issueServerCert(pki.issuer, { names: ['mail.lab.example', 'autodiscover.lab.example', 'localhost'], ips: ['127.0.0.1'] });
  const other = o.mismatchedKey ? await issueServerCert(pki.issuer, { names: ['localhost'] }) : fresh;
  writeFileSync(`${files.key}.new`, other.key, { mode: 0o600 });
  writeFileSync(`${files.cert}.new`, fresh.cert + pki.ca);
  renameSync(`${files.key}.new`, files.key);
  renameSync(`${files.cert}.new`, files.cert);
  return new X509(fresh.cert).fingerprint256;
}


/** The certificate a new handshake gets, by SNI name and without SNI (the default context); both must agree. */
async function servedFingerprint(port: number, ca: string): Promise<string> {
  const fps: string[] = [];
  for (const c of [await RawClient.connect(port, ca), await RawClient.open({ host: '127.0.0.1', port, ca })]) {
    fps.push(c.socket.getPeerX509Certificate()!.fingerprint256);
    c.close();
  }
  return fps[0] === fps[1] ? fps[0]! : `SNI ${fps[0]} / default ${fps[1]}`;
}

async function waitForFingerprint(port: number, ca: string, want: string, ms = 5_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if ((await servedFingerprint(port, ca)) === want) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error('the new certificate was not served in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function withCertificate(files: CertFiles) {
  return (b: Record<string, unknown>) => ({
    ...b,
    listeners: (b['listeners'] as Array<Record<string, unknown>>).map((l) => ({ ...l, tls: { certificates: [files] } })),
  });
}

async function openNotificationWait(env: Env): Promise<{ client: RawClient; answer: Promise<Awaited<ReturnType<RawClient['request']>>> }> {
  const client = await RawClient.connect(env.port, env.pki.ca);
  const r = await client.request('POST', MAPI, mapiHeaders(basic, 'Connect'), Buffer.alloc(40));
  assert.equal(r.head.status, 200);
  const cookie = r.head.headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value.split(';')[0]).join('; ');
  const answer = client.request('POST', MAPI, mapiHeaders(basic, 'NotificationWait', cookie), Buffer.alloc(8));
  return { client, answer };
}

describe('certificates and listeners reload without a restart', () => {
  // NotificationWait held by the lab for 30 s unless an event comes: long enough to outlive the swap.
  const lab = { mapi: { pendingPeriodMs: 60_000, notificationWaitMs: 30_000 } };

  it('a renewed certificate file reaches new handshakes; a live RPC channel and a NotificationWait survive it', async () => {
    const pki = await testPki();
    const files = ownCertificate(pki);
    const env = await startEnv({ lab, watch: true, config: withCertificate(files) });
    try {
      const before = await servedFingerprint(env.port, pki.ca);
      const out = await openOutChannel(env.port, pki.ca, basic);
      const wait = await openNotificationWait(env);
      const opened = new Set(env.gateway.connections);

      const t0 = Date.now();
      const after = await renew(pki, files);
      assert.notEqual(after, before);
      const ms = await waitForFingerprint(env.port, pki.ca, after);
      console.log(`# new certificate served ${Date.now() - t0} ms after the files were replaced (watch)`);
      assert.ok(ms >= 0);

      // The connections opened before the swap are the same sockets, still on the old certificate.
      assert.equal(out.client.socket.getPeerX509Certificate()!.fingerprint256, before);
      assert.ok(!out.client.closed && !wait.client.closed, 'no connection was dropped by the reload');
      // The RPC OUT channel still carries bytes: CONN/B1 on a new IN channel (new certificate) brings CONN/C2 down it.
      const { inChannel } = await completeWithInChannel(out, env.port, pki.ca, basic);
      assert.equal(inChannel.socket.getPeerX509Certificate()!.fingerprint256, after);
      // The NotificationWait is still held, and answers when the mailbox has an event.
      env.lab.notify('LAB\\alice');
      const r = await wait.answer;
      assert.equal(r.header('x-responsecode'), '0');
      const binary = r.body.subarray(r.body.indexOf('\r\n\r\n') + 4);
      assert.equal(binary.readUInt32LE(8), 1, 'EventPending after the swap');
      for (const c of opened) assert.ok(env.gateway.connections.has(c), `connection ${c.id} still registered`);
      for (const c of [out.client, wait.client, inChannel]) c.close();
    } finally {
      await env.stop();
    }
  });

  it('the admin endpoint reloads; a key that does not match its certificate is refused and the old pair stays', async () => {
    const pki = await testPki();
    const files = ownCertificate(pki);
    const env = await startEnv({ config: withCertificate(files) });
    try {
      const before = await servedFingerprint(env.port, pki.ca);
      const reload = () => fetch(`${env.runtime.admin!.url}/api/reload`, { method: 'POST', headers: adminHeaders(env), body: '{}' });
      await renew(pki, files, { mismatchedKey: true });
      const refused = await reload();
      assert.equal(refused.status, 422);
      assert.equal(await servedFingerprint(env.port, pki.ca), before, 'the running certificate stays');
      const good = await renew(pki, files);
      assert.equal((await reload()).status, 200);
      assert.equal(await servedFingerprint(env.port, pki.ca), good);
    } finally {
      await env.stop();
    }
  });

  it('listener TLS settings (minVersion) apply to the next handshakes', async () => {
    const pki = await testPki();
    const env = await startEnv({});
    try {
      const tls12 = () => RawClient.open({ host: '127.0.0.1', port: env.port, ca: pki.ca, timeoutMs: 3_000 }).then((c) => c.socket.getProtocol());
      const { default: tls } = await import('node:tls');
      const saved = tls.DEFAULT_MAX_VERSION;
      tls.DEFAULT_MAX_VERSION = 'TLSv1.2';
      try {
        assert.equal(await tls12(), 'TLSv1.2');
        const cfg = parse(readFileSync(env.configFile, 'utf8')) as { listeners: Array<{ tls: Record<string, unknown> }> };
        cfg.listeners[0]!.tls['minVersion'] = 'TLSv1.3';
        writeFileSync(env.configFile, stringify(cfg));
        assert.equal(await env.runtime.reload(), true);
        await assert.rejects(tls12(), /protocol version|alert/i);
      } finally {
        tls.DEFAULT_MAX_VERSION = saved;
      }
    } finally {
      await env.stop();
    }
  });

  it('a listener added by a reload accepts at once; a removed one stops accepting and keeps its connections', async () => {
    const pki = await testPki();
    const env = await startEnv({});
    try {
      const busy = net.createServer();
      await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
      const port2 = (busy.address() as net.AddressInfo).port;
      const cfg = parse(readFileSync(env.configFile, 'utf8')) as { listeners: Array<Record<string, unknown>> };
      const first = cfg.listeners[0]!;
      // A listener whose port is taken: the whole reload is refused, nothing changes.
      writeFileSync(env.configFile, stringify({ ...cfg, listeners: [first, { ...first, name: 'second', port: port2, zone: 'internal' }] }));
      assert.equal(await env.runtime.reload(), false);
      assert.deepEqual(env.gateway.listeners.map((l) => l.name), ['external']);
      await new Promise<void>((r) => busy.close(() => r()));

      writeFileSync(env.configFile, stringify({ ...cfg, listeners: [first, { ...first, name: 'second', port: port2, zone: 'internal' }] }));
      assert.equal(await env.runtime.reload(), true);
      assert.deepEqual(env.gateway.listeners.map((l) => [l.name, l.port]), [['external', env.port], ['second', port2]]);
      const second = await RawClient.connect(port2, pki.ca);
      const r = await second.request('GET', '/ecp/', {});
      assert.notEqual(r.header('x-portcullis-reason'), 'protocol-blocked-in-zone', 'the new listener serves its own zone (internal)');

      // The first listener goes: new connections are refused, the one open on it still works.
      const held = await RawClient.connect(env.port, pki.ca);
      writeFileSync(env.configFile, stringify({ ...cfg, listeners: [{ ...first, name: 'second', port: port2, zone: 'internal' }] }));
      assert.equal(await env.runtime.reload(), true);
      assert.deepEqual(env.gateway.listeners.map((l) => l.port), [port2]);
      await assert.rejects(RawClient.connect(env.port, pki.ca), /ECONNREFUSED/);
      const again = await held.request('GET', '/owa/', { Authorization: basic });
      assert.equal(again.head.status, 200, 'a connection accepted before the removal is served');
      held.close();
      second.close();
    } finally {
      await env.stop();
    }
  });
});
