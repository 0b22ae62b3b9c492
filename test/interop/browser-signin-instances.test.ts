// Browser sessions shared by two gateway instances through one real PostgreSQL (issue #15): a
// browser signed in on A is served by B (two worker processes) behind the same load balancer; a
// revoke on A ends the session on B; a sign-out on B ends it on A. Both instances use one sealing
// key file, as they must.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { labOptions } from '../../src/cli/lab-defaults.js';
import { loadDirectoryFile } from '../../src/directory/file-directory.js';
import { type Lab, startLab } from '../../src/lab/lab-server.js';
import { DEMO_DIRECTORY, type Pki, testPki } from '../helpers/env.js';
import { type Instance, startInstances, stopInstance } from '../helpers/instances.js';
import { type PgCluster, startPostgres } from '../helpers/postgres-cluster.js';
import { TestBrowser } from '../helpers/signin-browser.js';


const SESSION = '__Host-portcullis-session';

describe('browser sessions shared by two instances through PostgreSQL', { timeout: 120_000 }, () => {
  let pki: Pki;
  let lab: Lab;
  let pg: PgCluster;
  const inst: Instance[] = [];
  const headers = (i: Instance) => ({ Authorization: `Bearer ${readFileSync(path.join(path.dirname(i.config), 'admin.token'), 'utf8').trim()}`, 'Content-Type': 'application/json' });

  before(async () => {
    pki = await testPki();
    pg = await startPostgres('signin');
    const d = loadDirectoryFile(DEMO_DIRECTORY);
    if (!d.ok) throw new Error('demo directory invalid');
    lab = await startLab(labOptions(d.directory, 'https://127.0.0.1:1', { forms: ['owa', 'ecp'] }), { host: '127.0.0.1', port: 0, cert: readFileSync(pki.labCert), key: readFileSync(pki.labKey) });
    const keyFile = path.join(mkdtempSync(path.join(pki.dir, 'signin-key-')), 'signin.key');
    inst.push(...(await startInstances(pki, { labUrl: lab.url, pgUrl: pg.url, folder: 'signin-instances', extra: { signin: { zones: ['external'], failureTime: '50ms', keyFile } } })));
  });
  after(async () => {
    for (const i of inst) await stopInstance(i);
    await lab?.stop();
    await pg?.destroy();
  });

  it('signed in on A, served on B; signed out on B, refused on A', async () => {
    const [a, b] = inst as [Instance, Instance];
    const onA = new TestBrowser(a.port, pki.ca);
    assert.equal((await onA.signIn('LAB\\alice', 'Passw0rd!')).status, 302);
    const onB = new TestBrowser(b.port, pki.ca);
    onB.jar.set(SESSION, onA.jar.get(SESSION)!);
    for (let k = 0; k < 4; k++) assert.equal((await onB.request('GET', '/owa/')).header('x-lab-identity'), 'LAB\\alice', 'a session from A, on B');
    await onB.request('GET', '/owa/logoff.owa');
    assert.equal((await onA.request('GET', '/owa/')).status, 302, 'signed out on B: gone on A too');
  });

  it('a revoke on A ends the session on B', async () => {
    const [a, b] = inst as [Instance, Instance];
    const onB = new TestBrowser(b.port, pki.ca);
    await onB.signIn('LAB\\bob', 'Passw0rd!');
    assert.equal((await onB.request('GET', '/owa/')).header('x-lab-identity'), 'LAB\\bob');
    const r = await fetch(`${a.admin}/api/revoke`, { method: 'POST', headers: headers(a), body: JSON.stringify({ user: 'LAB\\bob', reason: 'test' }) });
    assert.equal(r.status, 200);
    const t0 = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - t0 < 5000) {
      await new Promise((res) => setTimeout(res, 100));
      status = (await onB.request('GET', '/owa/')).status;
    }
    console.log(`# a revoke on A ended bob's browser session on B after ${Date.now() - t0} ms`);
    assert.equal(status, 302);
    await fetch(`${a.admin}/api/unrevoke`, { method: 'POST', headers: headers(a), body: JSON.stringify({ user: 'LAB\\bob' }) });
    await new Promise((res) => setTimeout(res, 500));
    assert.equal((await onB.request('GET', '/owa/')).status, 302, 'lifting the revocation does not bring the session back');
  });
});
