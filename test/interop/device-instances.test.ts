// Issue 15: two gateway instances (A one process, B two workers) sharing ActiveSync device
// approvals through one real PostgreSQL. A device quarantined on B is approved on A and syncs on
// B; a block on A cuts the device's held Ping on B within a second (LISTEN/NOTIFY, then the
// primary's broadcast), while another device of the same user keeps syncing on B.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { RawClient } from '../../src/doctor/http-probe.js';
import { type Lab } from '../../src/lab/lab-server.js';
import { type Pki, demoLab, testPki } from '../helpers/env.js';
import { type Instance, startInstances, stopInstance } from '../helpers/instances.js';
import { type PgCluster, startPostgres } from '../helpers/postgres-cluster.js';

const EAS = '/Microsoft-Server-ActiveSync';
const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const query = (id: string, cmd = 'Sync') => `Cmd=${cmd}&User=dave&DeviceId=${id}&DeviceType=iPhone`;


describe('ActiveSync devices on two gateway instances sharing PostgreSQL', () => {
  let pki: Pki;
  let lab: Lab;
  let pg: PgCluster;
  const inst: Instance[] = [];

  const api = async (i: Instance, p: string, body?: unknown) => {
    const headers = { Authorization: `Bearer ${readFileSync(path.join(path.dirname(i.config), 'admin.token'), 'utf8').trim()}`, 'Content-Type': 'application/json' };
    return (await fetch(`${i.admin}${p}`, body ? { method: 'POST', headers, body: JSON.stringify(body) } : { headers })).json() as Promise<Record<string, unknown>>;
  };
  const sync = async (i: Instance, id: string) => {
    const c = await RawClient.connect(i.port, pki.ca);
    const r = await c.request('POST', `${EAS}?${query(id)}`, { Authorization: basic('LAB\\dave'), 'MS-ASProtocolVersion': '14.1' }, '');
    c.close();
    return r.head.status;
  };
  const heldPing = async (i: Instance, id: string) => {
    const c = await RawClient.connect(i.port, pki.ca);
    c.write(`POST ${EAS}?${query(id, 'Ping')} HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('LAB\\dave')}\r\nMS-ASProtocolVersion: 14.1\r\nContent-Length: 0\r\n\r\n`);
    return c;
  };

  before(async () => {
    pki = await testPki();
    pg = await startPostgres('devices');
    lab = await demoLab(pki, { eas: { maxPingMs: 60_000 } });
    inst.push(...(await startInstances(pki, { labUrl: lab.url, pgUrl: pg.url, folder: 'device-instances', extra: { devices: { mode: 'quarantine' } } })));
  });
  after(async () => {
    for (const i of inst) await stopInstance(i);
    await lab?.stop();
    await pg?.destroy();
  });

  it("quarantined on B, approved on A, syncs on B; a block on A cuts B's held Ping within a second", async () => {
    const [a, b] = inst as [Instance, Instance];
    assert.equal(await sync(b, 'SharedPhone'), 403);
    const listedOnA = (await api(a, '/api/devices?user=LAB%5Cdave')) as unknown as Array<{ id: string; state: string }>;
    assert.deepEqual(listedOnA.map((d) => [d.id, d.state]), [['SharedPhone', 'quarantined']], 'A lists what B recorded');
    await api(a, '/api/devices/approve', { user: 'LAB\\dave', device: 'SharedPhone', actor: 'ops' });
    await api(a, '/api/devices/approve', { user: 'LAB\\dave', device: 'SharedTablet', actor: 'ops' });
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await Promise.all([sync(b, 'SharedPhone'), sync(b, 'SharedPhone'), sync(b, 'SharedTablet')]), [200, 200, 200]);
    const ping = await heldPing(b, 'SharedPhone');
    const tablet = await heldPing(b, 'SharedTablet');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ping.closed || tablet.closed, false);
    const t0 = Date.now();
    await api(a, '/api/devices/block', { user: 'LAB\\dave', device: 'SharedPhone', actor: 'ops' });
    await ping.waitClosed(1_000);
    console.log(`# block on A -> Ping on B cut: ${Date.now() - t0} ms`);
    assert.equal(tablet.closed, false);
    tablet.close();
    assert.equal(await sync(b, 'SharedPhone'), 403);
    assert.equal(await sync(b, 'SharedTablet'), 200);
  });
});
