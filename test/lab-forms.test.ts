// The lab's forms-based sign-in behaves as Exchange's does (issue #15): the browser flow the
// gateway signs users in with, tested against the lab directly.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { labOptions } from '../src/cli/lab-defaults.js';
import { loadDirectoryFile } from '../src/directory/file-directory.js';
import { type Lab, startLab } from '../src/lab/lab-server.js';
import { DEMO_DIRECTORY, testPki } from './helpers/env.js';

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function request(lab: Lab, ca: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = https.request({ host: '127.0.0.1', port: lab.port, method, path, ca, headers: { ...headers, ...(body !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(Buffer.byteLength(body)) } : {}) }, agent: false }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

const cookies = (a: Answer) => ((a.headers['set-cookie'] as string[] | undefined) ?? []).map((c) => c.split(';')[0]!).join('; ');

describe('lab: Exchange forms-based sign-in', () => {
  let lab: Lab;
  let ca: string;
  before(async () => {
    const pki = await testPki();
    ca = pki.ca;
    const d = loadDirectoryFile(DEMO_DIRECTORY);
    if (!d.ok) throw new Error('directory');
    lab = await startLab(labOptions(d.directory, 'https://mail.lab.example', { forms: ['owa', 'ecp'] }), { host: '127.0.0.1', port: 0, cert: readFileSync(pki.labCert), key: readFileSync(pki.labKey) });
  });
  after(() => lab.stop());

  it('redirects /owa/ and /ecp/ without a session to logon.aspx', async () => {
    const owa = await request(lab, ca, 'GET', '/owa/');
    assert.equal(owa.status, 302);
    assert.match(String(owa.headers.location), /^\/owa\/auth\/logon\.aspx\?replaceCurrent=1&url=https%3A%2F%2Fmail\.lab\.example%2Fowa%2F$/);
    const ecp = await request(lab, ca, 'GET', '/ecp/');
    assert.match(String(ecp.headers.location), /url=https%3A%2F%2Fmail\.lab\.example%2Fecp%2F$/);
  });

  it('signs in with DOMAIN\\user and with a UPN, serves the session as that user, and logs off', async () => {
    for (const username of ['LAB\\alice', 'alice@lab.example']) {
      const form = new URLSearchParams({ destination: 'https://mail.lab.example/owa/', flags: '4', forcedownlevel: '0', username, password: 'Passw0rd!', passwordText: '', isUtf8: '1' }).toString();
      const s = await request(lab, ca, 'POST', '/owa/auth.owa', {}, form);
      assert.equal(s.status, 302);
      assert.equal(s.headers.location, '/owa/');
      const jar = cookies(s);
      assert.match(jar, /cadata=.*cadataKey=.*cadataIV=.*cadataSig=.*cadataTTL=.*X-OWA-CANARY=/);
      const owa = await request(lab, ca, 'GET', '/owa/', { Cookie: jar });
      assert.equal(owa.status, 200);
      assert.equal(owa.headers['x-lab-identity'], 'LAB\\alice');
      const ecp = await request(lab, ca, 'GET', '/ecp/', { Cookie: jar });
      assert.equal(ecp.headers['x-lab-identity'], 'LAB\\alice');
      const off = await request(lab, ca, 'GET', '/owa/logoff.owa', { Cookie: jar });
      assert.equal(off.status, 302);
      assert.equal((await request(lab, ca, 'GET', '/owa/', { Cookie: jar })).status, 302, 'the session ended with the logoff');
    }
  });

  it('sends a wrong password back to logon.aspx with reason=2, and never to another host', async () => {
    const bad = await request(lab, ca, 'POST', '/owa/auth.owa', {}, new URLSearchParams({ destination: '/owa/', username: 'LAB\\alice', password: 'nope' }).toString());
    assert.equal(bad.status, 302);
    assert.match(String(bad.headers.location), /reason=2/);
    assert.equal(bad.headers['set-cookie'], undefined);
    const away = await request(lab, ca, 'POST', '/owa/auth.owa', {}, new URLSearchParams({ destination: 'https://evil.example/x', username: 'LAB\\alice', password: 'Passw0rd!' }).toString());
    assert.equal(away.headers.location, '/x');
  });

  it('answers every virtual directory\'s healthcheck.htm anonymously', async () => {
    for (const p of ['/owa/healthcheck.htm', '/ecp/healthcheck.htm', '/EWS/healthcheck.htm', '/Microsoft-Server-ActiveSync/healthcheck.htm', '/mapi/healthcheck.htm', '/OAB/healthcheck.htm', '/Autodiscover/healthcheck.htm', '/rpc/healthcheck.htm']) {
      const a = await request(lab, ca, 'GET', p);
      assert.equal(a.status, 200, p);
      assert.match(a.body, /^200 OK/);
    }
  });
});
