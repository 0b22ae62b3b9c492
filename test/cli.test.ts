import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { DEMO_DIRECTORY, DEMO_POLICY, testPki } from './helpers/env.js';

const BIN = new URL('../bin/portcullis.js', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });

describe('portcullis CLI', () => {
  let config = '';
  before(async () => {
    const pki = await testPki();
    config = path.join(pki.dir, 'cli.yaml');
    writeFileSync(
      config,
      stringify({
        listeners: [{ port: 8443, tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
        upstream: { url: 'https://exch01.lab.local', tls: { ca: pki.caFile } },
        directory: { provider: 'file', file: DEMO_DIRECTORY },
        policy: DEMO_POLICY,
      }),
    );
  });

  it('config check: ok for a valid file, every problem with file:line:column otherwise', () => {
    const ok = run('config', 'check', config);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /ok/);
    const bad = path.join(path.dirname(config), 'bad.yaml');
    writeFileSync(bad, 'listeners:\n  - port: 70000\n    tls: {certificates: []}\nupstream:\n  url: http://x\n');
    const r = run('config', 'check', bad);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad\.yaml:2:11: listeners\[0\]\.port: Too big/);
    assert.match(r.stderr, /bad\.yaml:5:8: upstream\.url: the upstream must be https/);
  });

  it('config schema prints a JSON Schema', () => {
    const r = run('config', 'schema');
    assert.equal(r.status, 0);
    const schema = JSON.parse(r.stdout) as { properties: Record<string, unknown> };
    assert.ok(schema.properties['listeners'] && schema.properties['policy'] && schema.properties['directory']);
  });

  it('policy explain: decision, reasons and exit code', () => {
    const bob = run('policy', 'explain', '--user', 'LAB\\bob', '--protocol', 'mapi', '--zone', 'external', '-c', config);
    assert.equal(bob.status, 0, bob.stderr);
    assert.match(bob.stdout, /LAB\\bob mapi from external: ALLOW/);
    assert.match(bob.stdout, /reasons: group-ok/);
    assert.match(bob.stdout, /rule:\s+outlook-remote/);
    assert.match(bob.stdout, /groups:\s+Sales, Outlook-Remote/);
    const carol = run('policy', 'explain', '--user', 'carol@lab.example', '--protocol', 'rpc', '--zone', 'external', '-c', config);
    assert.equal(carol.status, 3);
    assert.match(carol.stdout, /DENY/);
    assert.match(carol.stdout, /reasons: not-in-group, default-deny/);
  });

  it('refuses numeric options that are not numbers instead of sending NaN', () => {
    const r = run('revoke', 'LAB\\bob', '--minutes', 'ten', '--admin', 'http://127.0.0.1:9');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--minutes must be a positive number, not "ten"/);
    const d = run('doctor', 'https://127.0.0.1:9', '--timeout', 'soon');
    assert.notEqual(d.status, 0);
    assert.match(d.stderr, /--timeout must be a positive number/);
  });

  it('cas-plan prints reviewable Set-CASMailbox lines', () => {
    const r = run('cas-plan', '-c', config);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Set-CASMailbox -Identity 'carol@lab\.example' -MAPIBlockOutlookRpcHttp \$false -MAPIBlockOutlookExternalConnectivity \$true/);
    const json = JSON.parse(run('cas-plan', '-c', config, '--json').stdout) as unknown[];
    assert.equal(json.length, 5);
  });
});
