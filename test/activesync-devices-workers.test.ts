// Issue 15, ActiveSync devices with `workers: 2`: the primary is the authority over devices, each
// worker judges from its replica. A device quarantined by one worker is refused by both; an
// approval made with `portcullis devices approve` (the CLI, as an admin runs it) reaches every
// worker; a block cuts the device's held Pings on both workers at once and leaves another device
// of the same user syncing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { labOptions } from '../src/cli/lab-defaults.js';
import { RawClient } from '../src/doctor/http-probe.js';
import { loadDirectoryFile } from '../src/directory/file-directory.js';
import { type Lab, startLab } from '../src/lab/lab-server.js';
import { DEMO_DIRECTORY, DEMO_POLICY, type Pki, testPki } from './helpers/env.js';
import { type Served, serve } from './helpers/served.js';
import { easBase64 } from './helpers/eas-query.js';

const run = promisify(execFile);
const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const EAS = '/Microsoft-Server-ActiveSync';
const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const head = `Authorization: ${basic('LAB\\dave')}\r\nMS-ASProtocolVersion: 14.1\r\nContent-Type: application/vnd.ms-sync.wbxml\r\n`;
const plain = (id: string, cmd = 'Sync') => `Cmd=${cmd}&User=dave&DeviceId=${id}&DeviceType=iPhone`;

describe('ActiveSync devices with worker processes (workers: 2)', () => {
  let pki: Pki;
  let lab: Lab;
  let gw: Served;
  let port = 0;
  let config = '';

  const cli = async (...args: string[]) => (await run(process.execPath, ['--import', 'tsx', MAIN, 'devices', ...args, '-c', config], { cwd: new URL('..', import.meta.url).pathname, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } })).stdout;
  /** One request per new connection, so they spread over both workers. */
  const statuses = async (query: string, n: number) =>
    Promise.all(
      Array.from({ length: n }, async () => {
        const c = await RawClient.connect(port, pki.ca);
        const r = await c.request('POST', `${EAS}?${query}`, { Authorization: basic('LAB\\dave'), 'MS-ASProtocolVersion': '14.1' }, '');
        c.close();
        return r.head.status;
      }),
    );
  const adminApi = (p: string, body?: unknown) => {
    const port = String(gw.lines.find((l) => l['msg'] === 'admin endpoint listening')?.['port']);
    const token = readFileSync(path.join(path.dirname(config), 'admin.token'), 'utf8').trim();
    return fetch(`http://127.0.0.1:${port}${p}`, body ? { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : { headers: { Authorization: `Bearer ${token}` } });
  };
  const heldPing = async (query: string) => {
    const c = await RawClient.connect(port, pki.ca);
    c.write(`POST ${EAS}?${query} HTTP/1.1\r\nHost: x\r\n${head}Content-Length: 0\r\n\r\n`);
    return c;
  };

  before(async () => {
    pki = await testPki();
    const d = loadDirectoryFile(DEMO_DIRECTORY);
    if (!d.ok) throw new Error('demo directory invalid');
    lab = await startLab(labOptions(d.directory, 'https://127.0.0.1:1', { eas: { maxPingMs: 60_000 } }), { host: '127.0.0.1', port: 0, cert: readFileSync(pki.labCert), key: readFileSync(pki.labKey) });
    const dir = mkdtempSync(path.join(pki.dir, 'devices-workers-'));
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
        devices: { mode: 'quarantine' },
        admin: { address: '127.0.0.1', port: 0 },
        log: { level: 'info' },
      }),
    );
    gw = serve(config);
    const ready = await gw.waitFor((l) => l['msg'] === 'gateway ready');
    port = (ready['listeners'] as Array<{ port: number }>)[0]!.port;
    const adminPort = (await gw.waitFor((l) => l['msg'] === 'admin endpoint listening'))['port'];
    // The CLI finds the endpoint through the config, as an admin's would.
    const written = parse(readFileSync(config, 'utf8')) as { admin: { port: number } };
    written.admin.port = Number(adminPort);
    writeFileSync(config, stringify(written));
    // The gateway watches its config: its reload re-judges live connections, so the tests start after it.
    await gw.waitFor((l) => l['msg'] === 'configuration reloaded' && l['workers'] === 2);
  });
  after(async () => {
    if (gw.proc.exitCode === null) {
      const exited = new Promise((r) => gw.proc.once('exit', r));
      gw.proc.kill('SIGTERM');
      await exited;
    }
    await lab.stop();
  });

  it('a new device is quarantined on every worker; `portcullis devices approve` lets it sync on every worker', async () => {
    assert.deepEqual(await statuses(plain('PoolPhone'), 6), [403, 403, 403, 403, 403, 403]);
    const listed = await cli('list', '--user', 'LAB\\dave');
    assert.match(listed, /^USER\s+DEVICE\s+TYPE\s+STATE/m);
    assert.match(listed, /LAB\\dave\s+PoolPhone\s+iPhone\s+\S*quarantined/);
    assert.match(await cli('approve', 'dave@lab.example', 'poolphone'), /approved PoolPhone of LAB\\dave/);
    assert.deepEqual(await statuses(plain('PoolPhone'), 6), [200, 200, 200, 200, 200, 200]);
    assert.deepEqual(await statuses(easBase64({ id: 'PoolPhone', type: 'iPhone' }), 4), [200, 200, 200, 200], 'the base64 form too');
    const approved = gw.lines.find((l) => l['msg'] === 'device approved');
    assert.equal(approved?.['actor'], `admin:${(await import('node:os')).userInfo().username}`);
  });

  it("blocking cuts the device's held Pings on both workers within a second; another device keeps syncing", async () => {
    assert.match(await cli('approve', 'LAB\\dave', 'PoolTablet'), /approved/);
    const pings = await Promise.all(Array.from({ length: 4 }, () => heldPing(plain('PoolPhone', 'Ping'))));
    const tablet = await heldPing(plain('PoolTablet', 'Ping'));
    await new Promise((r) => setTimeout(r, 300));
    const ended = [...pings, tablet].filter((p) => p.closed);
    // On failure, say what ended them: the answer they got and the gateway's lines about dave's Pings.
    const why = () => `${ended.map((p) => JSON.stringify(p.unread.slice(0, 300))).join(', ')}; ${JSON.stringify(gw.lines.filter((l) => typeof l['status'] === 'number' && l['status'] !== 200).slice(-6))}`;
    assert.equal(ended.length, 0, `the Pings are held: ${ended.length} ended: ${ended.length ? why() : ''}`);
    const conns = (await (await adminApi('/api/connections')).json()) as Array<{ worker: number; device?: { id: string } }>;
    assert.deepEqual([...new Set(conns.filter((c) => c.device?.id === 'PoolPhone').map((c) => c.worker))].sort(), [1, 2], 'Pings held on both workers');
    // Timed through the admin endpoint (what the CLI calls): the CLI's own start-up is no part of the cut.
    const t0 = Date.now();
    const res = await adminApi('/api/devices/block', { user: 'LAB\\dave', device: 'PoolPhone', actor: 'ops' });
    await Promise.all(pings.map((p) => p.waitClosed(1_000)));
    console.log(`# workers: device block -> 4 Pings cut on 2 workers: ${Date.now() - t0} ms`);
    assert.equal(((await res.json()) as { closedConnections: number }).closedConnections, 4);
    assert.ok(Date.now() - t0 < 1_000);
    assert.equal(tablet.closed, false);
    tablet.close();
    assert.deepEqual(await statuses(plain('PoolPhone'), 4), [403, 403, 403, 403]);
    assert.deepEqual(await statuses(plain('PoolTablet'), 4), [200, 200, 200, 200]);
  });

  it('a removed device is new again on every worker; a typo in a device id is refused by the CLI with a reason', async () => {
    assert.match(await cli('remove', 'LAB\\dave', 'PoolTablet'), /removed PoolTablet of LAB\\dave \(was approved\)/);
    assert.deepEqual(await statuses(plain('PoolTablet'), 4), [403, 403, 403, 403]);
    await assert.rejects(cli('block', 'LAB\\dave', 'Pool Tablet'), /"Pool Tablet" is not a DeviceId/);
    assert.match(await cli('block', 'LAB\\dave', 'PoolTablet'), /blocked PoolTablet of LAB\\dave: 0 open connection\(s\) closed/);
    assert.match(await cli('list'), /LAB\\dave\s+PoolTablet\s+iPhone\s+blocked/);
    await assert.rejects(cli('approve', 'LAB\\nobody', 'X1'), /LAB\\nobody is not in the directory/);
  });
});
