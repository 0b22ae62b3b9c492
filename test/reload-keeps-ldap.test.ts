// Issue #18: a reload used to build a new LDAP directory every time, so every reload (a policy
// edit, a certificate path, SIGHUP from logrotate) started with a cold cache and an unbound pool:
// a small login storm against the DCs. The running directory is kept when its settings, the groups
// the policy names and the files it reads are unchanged; any of those changing builds a new one.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { type Env, startEnv } from './helpers/env.js';

describe('a reload keeps an unchanged LDAP directory', () => {
  let env: Env;
  let passwordFile: string;
  const edit = (f: (c: Record<string, any>) => void) => {
    const c = parse(readFileSync(env.configFile, 'utf8')) as Record<string, any>;
    f(c);
    writeFileSync(env.configFile, stringify(c));
  };

  before(async () => {
    env = await startEnv({
      config: (base) => {
        passwordFile = path.join(path.dirname(String((base['directory'] as { file: string }).file)), 'svc.pw');
        writeFileSync(passwordFile, 'Svc-Passw0rd!\n', { mode: 0o600 });
        // No DC listens there: the provider is built and kept or replaced, never asked.
        return {
          ...base,
          directory: { provider: 'ldap', urls: ['ldaps://127.0.0.1:9', 'ldaps://127.0.0.2:9'], bindDn: 'svc-gateway@lab.example', bindPasswordFile: passwordFile, baseDn: 'DC=lab,DC=example', netbiosDomain: 'LAB', upnSuffixes: ['lab.example'], cacheTtl: '10m' },
        };
      },
    });
  });
  after(() => env.stop());

  it('keeps the provider (and its cache) when only the rest of the config changes', async () => {
    const before = env.runtime.state().directory;
    assert.equal(before.name, 'ldap');
    assert.equal(await env.runtime.reload(), true);
    assert.equal(env.runtime.state().directory, before, 'a reload with nothing changed must not start a cold directory');
    edit((c) => {
      c['http'] = { ...(c['http'] ?? {}), drainTimeout: '7s' };
    });
    assert.equal(await env.runtime.reload(), true);
    assert.equal(env.runtime.state().directory, before, 'an unrelated edit must not start a cold directory');
  });

  it('builds a new one when a directory setting changes', async () => {
    const before = env.runtime.state().directory;
    edit((c) => {
      c['directory'].cacheTtl = '5m';
    });
    assert.equal(await env.runtime.reload(), true);
    assert.notEqual(env.runtime.state().directory, before);
  });

  it('builds a new one when the service password file is rotated', async () => {
    const before = env.runtime.state().directory;
    writeFileSync(passwordFile, 'Rotated-Passw0rd!\n');
    assert.equal(await env.runtime.reload(), true);
    assert.notEqual(env.runtime.state().directory, before, 'a rotated password must take effect');
  });

  it('builds a new one when the policy names another group (its unseen-group warning)', async () => {
    const before = env.runtime.state().directory;
    edit((c) => {
      c['policy'].rules.push({ name: 'extra', effect: 'allow', zones: ['external'], protocols: ['owa'], groups: ['Helpdesk'] });
    });
    assert.equal(await env.runtime.reload(), true);
    assert.notEqual(env.runtime.state().directory, before);
  });
});
