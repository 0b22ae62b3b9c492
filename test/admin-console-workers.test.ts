// The admin console of a worker pool (`workers: 2`): the primary serves it with the same sources a
// single process has (running policy, audit trail, file directory), and closes one connection in
// the worker that holds it.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { type Lab } from '../src/lab/lab-server.js';
import { DEMO_DIRECTORY, DEMO_POLICY, type Pki, testPki, demoLab } from './helpers/env.js';
import { type Served, readyAt, serve, stopServed } from './helpers/served.js';
import { bobsNotificationWait, consoleSection, signIn } from './helpers/console-client.js';

describe('admin console with worker processes (workers: 2)', () => {
  let pki: Pki;
  let lab: Lab;
  let gw: Served;
  let port = 0;
  let admin = '';

  before(async () => {
    pki = await testPki();
    lab = await demoLab(pki, { mapi: { pendingPeriodMs: 60_000, notificationWaitMs: 60_000 } });
    const dir = mkdtempSync(path.join(pki.dir, 'console-workers-'));
    copyFileSync(DEMO_DIRECTORY, path.join(dir, 'directory.yaml'));
    const config = path.join(dir, 'portcullis.yaml');
    writeFileSync(
      config,
      stringify({
        workers: 2,
        listeners: [{ address: '127.0.0.1', port: 0, zone: 'external', tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
        upstream: { url: lab.url, tls: { ca: pki.caFile } },
        directory: { provider: 'file', file: 'directory.yaml' },
        policy: DEMO_POLICY,
        admin: { address: '127.0.0.1', port: 0, console: await consoleSection(5) },
        audit: { dataDir: 'data' },
        state: { dataDir: 'data' },
        // bob's NotificationWaits are exchanges in flight until the lab answers: no 30 s wait at the stop.
        http: { drainTimeout: '1s' },
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

  it('the Policy page shows the running rules; the Users page searches the file directory', async () => {
    const op = await signIn(admin, 'operator');
    const policy = await (await op.get('/console/policy')).text();
    assert.doesNotMatch(policy, /not available/);
    for (const rule of DEMO_POLICY.rules) assert.match(policy, new RegExp(rule.name));
    assert.match(await (await op.get('/console/users?q=eri')).text(), /LAB\\erin/, 'substring search of the file directory');
  });

  it("an operator closes bob's connection in whichever worker holds it; the Audit page shows the record", async () => {
    const bobs = await Promise.all([bobsNotificationWait(port, pki.ca), bobsNotificationWait(port, pki.ca), bobsNotificationWait(port, pki.ca), bobsNotificationWait(port, pki.ca)]);
    const op = await signIn(admin, 'operator');
    const table = await (await op.get('/console/connections/table?q=bob')).text();
    const rows = [...table.matchAll(/data-user="LAB\\bob" data-id="(\d+)".*?name="worker" value="(\d+)"/g)].map((m) => ({ id: m[1]!, worker: m[2]! }));
    assert.equal(rows.length, 4, table);
    assert.ok(new Set(rows.map((r) => r.worker)).size >= 1);
    // Connection ids are per process: the same id may name connections in both workers.
    const target = rows[0]!;
    const closed = await op.post('/console/connections/close', target);
    assert.equal(closed.status, 200);
    assert.match(await closed.text(), new RegExp(`Connection ${target.id} closed`));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(bobs.filter((b) => b.closed).length, 1, 'exactly one connection closed');
    const after = await (await op.get('/console/connections/table?q=bob')).text();
    assert.equal([...after.matchAll(/data-user="LAB\\bob"/g)].length, 3);
    const unnamed = await op.post('/console/connections/close', { id: target.id });
    assert.equal(unnamed.status, 400, 'no worker named: nothing closed');
    assert.match(await unnamed.text(), /is gone already/);
    assert.equal(bobs.filter((b) => b.closed).length, 1);
    // Each worker writes its records to the trail; the primary's console reads them.
    let audit = '';
    for (let i = 0; i < 20 && !/close-connection/.test(audit); i++) {
      await new Promise((r) => setTimeout(r, 250));
      audit = await (await op.get('/console/audit?event=admin-action')).text();
    }
    assert.match(audit, /close-connection/);
    assert.match(audit, /console:operator/);
    bobs.forEach((b) => b.close());
  });
});
