// Browser sessions across worker processes (issue #15): a browser's next connection may reach
// another worker, so a session signed in on one must serve on the other, and a sign-out on one
// ends it on both (sessions in state.sqlite, shared by the workers of a host).
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { labOptions } from '../src/cli/lab-defaults.js';
import { loadDirectoryFile } from '../src/directory/file-directory.js';
import { type Lab, startLab } from '../src/lab/lab-server.js';
import { DEMO_DIRECTORY, DEMO_POLICY, type Pki, testPki } from './helpers/env.js';
import { type Served, serve } from './helpers/served.js';
import { TestBrowser } from './helpers/signin-browser.js';

describe('browser sessions with workers: 2', () => {
  let pki: Pki;
  let lab: Lab;
  let gw: Served;
  let port = 0;

  before(async () => {
    pki = await testPki();
    const d = loadDirectoryFile(DEMO_DIRECTORY);
    if (!d.ok) throw new Error('demo directory invalid');
    lab = await startLab(labOptions(d.directory, 'https://127.0.0.1:1', { forms: ['owa', 'ecp'] }), { host: '127.0.0.1', port: 0, cert: readFileSync(pki.labCert), key: readFileSync(pki.labKey) });
    const dir = mkdtempSync(path.join(pki.dir, 'signin-workers-'));
    copyFileSync(DEMO_DIRECTORY, path.join(dir, 'directory.yaml'));
    const config = path.join(dir, 'portcullis.yaml');
    writeFileSync(
      config,
      stringify({
        workers: 2,
        listeners: [{ address: '127.0.0.1', port: 0, zone: 'external', tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
        upstream: { url: lab.url, tls: { ca: pki.caFile } },
        directory: { provider: 'file', file: path.join(dir, 'directory.yaml') },
        policy: DEMO_POLICY,
        signin: { zones: ['external'], failureTime: '50ms' },
        admin: { address: '127.0.0.1', port: 0 },
        log: { level: 'info' },
      }),
    );
    gw = serve(config);
    const ready = await gw.waitFor((l) => l['msg'] === 'gateway ready');
    port = (ready['listeners'] as Array<{ port: number }>)[0]!.port;
  });
  after(async () => {
    if (gw.proc.exitCode === null) {
      const exited = new Promise((r) => gw.proc.once('exit', r));
      gw.proc.kill('SIGTERM');
      await exited;
    }
    await lab.stop();
  });

  it('a session signed in on one worker serves on both, and a sign-out ends it on both', async () => {
    const b = new TestBrowser(port, pki.ca);
    assert.equal((await b.signIn('LAB\\alice', 'Passw0rd!')).status, 302);
    for (let i = 0; i < 12; i++) assert.equal((await b.request('GET', '/owa/')).header('x-lab-identity'), 'LAB\\alice');
    const served = gw.lines.filter((l) => l['msg'] === 'request' && l['path'] === '/owa/' && l['user'] === 'LAB\\alice' && l['status'] === 200);
    assert.deepEqual([...new Set(served.map((l) => l['worker']))].length, 2, 'both workers served the session');
    await b.request('GET', '/owa/logoff.owa');
    const replay = new TestBrowser(port, pki.ca);
    const cookie = [...b.answers].reverse().flatMap((a) => a.setCookies()).find((c) => /portcullis-session=[^;]/.test(c));
    assert.ok(cookie);
    replay.jar.set('__Host-portcullis-session', cookie.split(';')[0]!.split('=')[1]!);
    for (let i = 0; i < 6; i++) assert.equal((await replay.request('GET', '/owa/')).status, 302, 'signed out on every worker');
  });
});
