// The audit trail with `workers: 2`: each worker records its own connections into the shared
// SQLite file (WAL takes several writers), the primary records the revocation it carried out, and
// nothing is lost at a SIGTERM stop.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { RawClient } from '../src/doctor/http-probe.js';
import { type Lab } from '../src/lab/lab-server.js';
import { DEMO_DIRECTORY, DEMO_POLICY, type Pki, testPki, demoLab } from './helpers/env.js';
import { type Served, readyAt, serve, stopServed } from './helpers/served.js';

const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('audit trail with worker processes (workers: 2)', () => {
  let pki: Pki;
  let lab: Lab;
  let gw: Served;
  let dir = '';
  before(async () => {
    pki = await testPki();
    lab = await demoLab(pki);
    dir = mkdtempSync(path.join(pki.dir, 'audit-workers-'));
    copyFileSync(DEMO_DIRECTORY, path.join(dir, 'directory.yaml'));
    writeFileSync(
      path.join(dir, 'portcullis.yaml'),
      stringify({
        workers: 2,
        listeners: [{ address: '127.0.0.1', port: 0, zone: 'external', tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
        upstream: { url: lab.url, tls: { ca: pki.caFile } },
        directory: { provider: 'file', file: path.join(dir, 'directory.yaml') },
        policy: DEMO_POLICY,
        admin: { address: '127.0.0.1', port: 0 },
        log: { level: 'info' },
        audit: { dataDir: 'audit' },
      }),
    );
    gw = serve(path.join(dir, 'portcullis.yaml'));
  });
  after(async () => {
    await stopServed(gw);
    await lab.stop();
  });

  it('every worker\'s connections and the primary\'s revocation are on one trail', async () => {
    const { port, admin } = await readyAt(gw);
    const clients: RawClient[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await RawClient.connect(port, pki.ca);
      assert.equal((await c.request('GET', '/EWS/Exchange.asmx', { Authorization: basic('LAB\\erin') })).head.status, 200);
      clients.push(c);
    }
    const token = readFileSync(path.join(dir, 'admin.token'), 'utf8').trim();
    const res = await fetch(`${admin}/api/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'LAB\\erin', reason: 'phone lost' }) });
    assert.equal(res.status, 200);
    await Promise.all(clients.map((c) => c.waitClosed(5000)));
    const exited = new Promise((r) => gw.proc.once('exit', r));
    gw.proc.kill('SIGTERM');
    await exited;

    const store = new SqliteAuditStore(path.join(dir, 'audit', 'audit.sqlite'), { readOnly: true });
    const rows = await store.query({ user: 'erin' });
    await store.close();
    const count = (event: string) => rows.filter((r) => r.event === event).length;
    assert.equal(count('identity-bound'), 6);
    assert.equal(rows.filter((r) => r.event === 'connection-closed' && r.cause === 'access-withdrawn').length, 6);
    const revoked = rows.filter((r) => r.event === 'revoked');
    assert.deepEqual(revoked.map((r) => [r.text, r.actor]), [['phone lost', 'admin']]);
    assert.match(revoked[0]!.cause!, /6 connection\(s\) closed/);
    // Both workers wrote, each under its own name; the revocation is the primary's.
    const host = os.hostname();
    assert.deepEqual(new Set(rows.filter((r) => r.event === 'identity-bound').map((r) => r.instance)), new Set([`${host}/w0`, `${host}/w1`]));
    assert.equal(revoked[0]!.instance, host);
    // Nothing left behind in a spool.
    for (const f of readdirSync(path.join(dir, 'audit')).filter((n) => n.startsWith('audit-spool'))) assert.equal(statSync(path.join(dir, 'audit', f)).size, 0, f);
  });
});
