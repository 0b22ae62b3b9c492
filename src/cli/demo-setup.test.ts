import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { DEMO_CONFIG, DEMO_DEFAULTS, DEMO_DIRECTORY, demoConfigFile, demoSettings, demoUsers } from './demo-setup.js';
import { loadDirectoryFile } from '../directory/file-directory.js';

describe('demo settings', () => {
  it('defaults, then environment variables, then options', () => {
    assert.deepEqual(demoSettings({}, {}), DEMO_DEFAULTS);
    const env = { PORTCULLIS_DEMO_PORT: '10443', PORTCULLIS_DEMO_DNS_PORT: '10053', PORTCULLIS_DEMO_DIR: '/tmp/x' };
    assert.deepEqual(demoSettings({}, env), { ...DEMO_DEFAULTS, port: 10443, dnsPort: 10053, state: '/tmp/x' });
    assert.equal(demoSettings({ port: '11443' }, env).port, 11443);
  });
  it('a bad port is one line naming where it came from', () => {
    assert.throws(() => demoSettings({ port: 'abc' }, {}), /^Error: --port must be a port number from 1 to 65535, not "abc"$/);
    assert.throws(() => demoSettings({}, { PORTCULLIS_DEMO_LAB_PORT: '70000' }), /PORTCULLIS_DEMO_LAB_PORT must be a port number/);
    assert.throws(() => demoSettings({ port: '9443' }, {}), /ports must differ/);
  });
});

describe('the configuration the demo serves', () => {
  it('is examples/demo/portcullis.yaml itself with the defaults', () => {
    assert.equal(demoConfigFile(DEMO_DEFAULTS, ''), DEMO_CONFIG);
  });
  it('is a copy with this run\'s ports and state folder otherwise', () => {
    const state = mkdtempSync(path.join(os.tmpdir(), 'demo-setup-'));
    try {
      const file = demoConfigFile({ port: 10443, labPort: 10444, adminPort: 10090, dnsPort: 10053, state }, readFileSync(DEMO_CONFIG, 'utf8'));
      assert.equal(file, path.join(state, 'portcullis.yaml'));
      const c = parse(readFileSync(file, 'utf8'));
      assert.equal(c.listeners[0].port, 10443);
      assert.equal(c.listeners[0].tls.certificates[0].cert, path.join(state, 'gateway.crt'));
      assert.equal(c.upstream.url, 'https://127.0.0.1:10444');
      assert.equal(c.autodiscover.namespaces[0].external, '127.0.0.1:10443');
      assert.equal(c.admin.port, 10090);
      assert.equal(c.admin.tokenFile, path.join(state, 'admin.token'));
      assert.equal(c.directory.file, DEMO_DIRECTORY);
      assert.equal(c.audit.dataDir, path.join(state, 'audit'));
      assert.equal(c.state.dataDir, path.join(state, 'state'));
      assert.equal(c.signin.secondFactor.keyFile, path.join(state, 'second-factor.key'));
      assert.doesNotMatch(readFileSync(file, 'utf8'), /\.\.\/\.demo/, 'nothing left in the default state folder');
      // Everything else, comments included, is the example's.
      assert.deepEqual(c.policy, parse(readFileSync(DEMO_CONFIG, 'utf8')).policy);
      assert.match(readFileSync(file, 'utf8'), /# Smart lockout/);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});

describe('demo users', () => {
  it('names every user of the demo directory', () => {
    const d = loadDirectoryFile(DEMO_DIRECTORY);
    assert.ok(d.ok);
    assert.deepEqual(demoUsers(d.directory), { names: 'alice, bob, carol, dave and erin', domain: 'LAB', password: 'Passw0rd!' });
  });
});
