// The admin endpoint over TLS (admin.tls): the console's cookie is Secure, the JSON API and the
// console answer only over HTTPS, and the CLI (`portcullis revoke -c`) reaches it trusting exactly
// the certificate the config names, refusing any other.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { type Env, startEnv, testPki } from './helpers/env.js';
import { CONSOLE_PASSWORDS, consoleSection } from './helpers/console-client.js';

const BIN = new URL('../bin/portcullis.js', import.meta.url).pathname;

function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
    ),
  );
}

/** One HTTPS request trusting the test CA; the answer with its headers. */
function request(url: string, ca: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: o.method ?? 'GET', headers: o.headers ?? {}, ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

describe('admin endpoint over TLS', () => {
  let env: Env;
  let admin: string;
  before(async () => {
    const section = await consoleSection(5);
    const pki = await testPki();
    env = await startEnv({ config: (b) => ({ ...b, admin: { ...(b['admin'] as object), tls: { cert: pki.gatewayCert, key: pki.gatewayKey }, console: section } }) });
    admin = env.runtime.admin!.url;
  });
  after(() => env.stop());

  it('serves HTTPS only; the console session cookie is Secure', async () => {
    assert.match(admin, /^https:\/\/127\.0\.0\.1:\d+$/);
    const plain = await fetch(admin.replace('https:', 'http:') + '/healthz').then(
      (r) => r.status,
      () => 'refused',
    );
    assert.notEqual(plain, 200, 'no plain HTTP answer on the TLS listener');
    const form = await request(`${admin}/console/sign-in`, env.pki.ca);
    assert.equal(form.status, 200);
    const pre = String(form.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
    const body = new URLSearchParams({ _csrf: csrf, login: 'operator', password: CONSOLE_PASSWORDS.operator }).toString();
    const signedIn = await request(`${admin}/console/sign-in`, env.pki.ca, { method: 'POST', headers: { Cookie: pre, 'Content-Type': 'application/x-www-form-urlencoded', Origin: admin }, body });
    assert.equal(signedIn.status, 303, signedIn.body);
    const cookie = ([] as string[]).concat(signedIn.headers['set-cookie'] ?? []).find((c) => c.startsWith('portcullis_console='))!;
    assert.match(cookie, /; Secure/);
    assert.match(cookie, /; HttpOnly/);
    const foreign = await request(`${admin}/console/sign-in`, env.pki.ca, { method: 'POST', headers: { Cookie: pre, 'Content-Type': 'application/x-www-form-urlencoded', Origin: admin.replace('https:', 'http:') }, body });
    assert.equal(foreign.status, 403, 'the http:// origin of the same host is another origin');
  });

  it('the CLI revokes over TLS, trusting the certificate admin.tls.cert names', async () => {
    const r = await cli(['revoke', 'LAB\\bob', '--reason', 'tls test', '-c', env.configFile, '--admin', admin]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /revoked LAB\\bob/);
    const undo = await cli(['revoke', 'LAB\\bob', '--undo', '-c', env.configFile, '--admin', admin]);
    assert.equal(undo.status, 0, undo.stderr);
  });

  it('the CLI refuses an endpoint whose certificate is not the configured one, saying so', async () => {
    const doc = parse(readFileSync(env.configFile, 'utf8')) as { admin: { tls: { cert: string } } };
    doc.admin.tls.cert = env.pki.labCert; // signed by the same CA, but another certificate
    const other = path.join(path.dirname(env.configFile), 'other-cert.yaml');
    writeFileSync(other, stringify(doc));
    const r = await cli(['revoke', 'LAB\\bob', '--reason', 'x', '-c', other, '--admin', admin]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /certificate is not the one in admin\.tls\.cert/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'one line, no stack');
  });
});
