// Issue #13 with `workers: 2`: the primary takes SIGHUP (systemctl reload) and the file watch, and
// every worker swaps its certificates and opens or closes listeners; a live RPC channel held by a
// worker survives.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { RawClient } from '../src/doctor/http-probe.js';
import { issueServerCert } from '../src/lab/certs.js';
import { type Lab } from '../src/lab/lab-server.js';
import { DEMO_DIRECTORY, DEMO_POLICY, type Pki, testPki, demoLab } from './helpers/env.js';
import { completeWithInChannel, openOutChannel } from './helpers/rpc-channel.js';
import { type Served, serve } from './helpers/served.js';

const basic = `Basic ${Buffer.from('LAB\\alice:Passw0rd!').toString('base64')}`;

async function fingerprints(port: number, ca: string, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const c = await RawClient.open({ host: '127.0.0.1', port, ca });
    seen.add(c.socket.getPeerX509Certificate()!.fingerprint256);
    c.close();
  }
  return seen;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('reload with worker processes (workers: 2)', () => {
  let pki: Pki;
  let lab: Lab;
  let gw: Served;
  let port = 0;
  let config = '';
  let base: Record<string, unknown> = {};
  let target = '';

  before(async () => {
    pki = await testPki();
    lab = await demoLab(pki);
    const dir = mkdtempSync(path.join(pki.dir, 'workers-reload-'));
    const store = mkdtempSync(path.join(pki.dir, 'workers-reload-store-'));
    // The config names a symlink into another folder (as /etc/letsencrypt/live does): a file
    // replaced in that folder is not seen by the watch, so only SIGHUP can make it count.
    target = path.join(store, 'cert.pem');
    copyFileSync(pki.gatewayCert, target);
    copyFileSync(pki.gatewayKey, path.join(store, 'key.pem'));
    symlinkSync(target, path.join(dir, 'gateway.crt'));
    symlinkSync(path.join(store, 'key.pem'), path.join(dir, 'gateway.key'));
    copyFileSync(DEMO_DIRECTORY, path.join(dir, 'directory.yaml'));
    config = path.join(dir, 'portcullis.yaml');
    base = {
      workers: 2,
      listeners: [{ name: 'one', address: '127.0.0.1', port: 0, zone: 'external', tls: { certificates: [{ cert: path.join(dir, 'gateway.crt'), key: path.join(dir, 'gateway.key') }] } }],
      upstream: { url: lab.url, tls: { ca: pki.caFile } },
      directory: { provider: 'file', file: path.join(dir, 'directory.yaml') },
      policy: DEMO_POLICY,
      http: { drainTimeout: '1s' },
      log: { level: 'info' },
    };
    writeFileSync(config, stringify(base));
    gw = serve(config);
    const ready = await gw.waitFor((l) => l['msg'] === 'gateway ready');
    port = (ready['listeners'] as Array<{ port: number }>)[0]!.port;
  });

  after(async () => {
    gw.proc.kill('SIGTERM');
    await new Promise((r) => gw.proc.once('exit', r));
    await lab.stop();
  });

  it('SIGHUP: every worker serves the renewed certificate; an RPC channel opened before keeps working', async () => {
    const old = await fingerprints(port, pki.ca, 6);
    assert.equal(old.size, 1);
    const out = await openOutChannel(port, pki.ca, basic);
    const fresh = await issueServerCert(pki.issuer, { names: ['mail.lab.example', 'localhost'], ips: ['127.0.0.1'] });
    const store = path.dirname(target);
    writeFileSync(path.join(store, 'key.pem.new'), fresh.key, { mode: 0o600 });
    writeFileSync(`${target}.new`, fresh.cert + pki.ca);
    renameSync(path.join(store, 'key.pem.new'), path.join(store, 'key.pem'));
    renameSync(`${target}.new`, target);
    const want = new X509Certificate(fresh.cert).fingerprint256;
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual([...(await fingerprints(port, pki.ca, 4))], [...old], 'not reloaded before the signal (the watch does not see the symlink target)');
    // The primary's line names how many workers reloaded (each worker logs its own too).
    const primaryReloaded = (l: Record<string, unknown>) => l['msg'] === 'configuration reloaded' && l['workers'] !== undefined;
    const reloads = gw.lines.filter(primaryReloaded).length;
    gw.proc.kill('SIGHUP');
    const done = await gw.waitFor((l) => primaryReloaded(l) && gw.lines.filter(primaryReloaded).length > reloads);
    assert.equal(done['workers'], 2);
    assert.deepEqual([...(await fingerprints(port, pki.ca, 6))], [want], 'both workers hand out the new certificate');
    const { inChannel } = await completeWithInChannel(out, port, pki.ca, basic);
    inChannel.close();
    out.client.close();
  });

  it('a listener added to the config (file watch) is opened by every worker', async () => {
    const port2 = await freePort();
    const l = (base['listeners'] as Array<Record<string, unknown>>)[0]!;
    writeFileSync(config, stringify({ ...base, listeners: [l, { ...l, name: 'two', port: port2 }] }));
    await gw.waitFor((x) => x['msg'] === 'listening' && x['port'] === port2 && x['worker'] !== undefined);
    const deadline = Date.now() + 10_000;
    while (gw.lines.filter((x) => x['msg'] === 'listening' && x['port'] === port2).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(gw.lines.filter((x) => x['msg'] === 'listening' && x['port'] === port2).length, 2, 'each worker opened it');
    for (let i = 0; i < 4; i++) {
      const c = await RawClient.connect(port2, pki.ca);
      const r = await c.request('GET', '/owa/', { Authorization: basic });
      assert.equal(r.head.status, 200);
      c.close();
    }
  });
});
