// Browser sign-in with the ldap directory (OpenLDAP started by scripts/openldap.sh): the gateway
// checks the password with an LDAP bind, so a wrong password never reaches Exchange, and only a
// right one is followed by the forms-based sign-in to the lab on the user's behalf.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEMO_POLICY, type Env, startEnv } from '../helpers/env.js';
import { TestBrowser } from '../helpers/signin-browser.js';

const SCRIPTS = new URL('../../scripts/', import.meta.url).pathname;

describe('browser sign-in with the ldap directory (OpenLDAP)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pc-signin-ldap-'));
  let env: Env;
  before(async () => {
    execFileSync('bash', [SCRIPTS + 'openldap.sh', 'up', dir], { stdio: 'pipe' });
    env = await startEnv({
      lab: { forms: ['owa', 'ecp'] },
      config: (b) => ({
        ...b,
        directory: { provider: 'ldap', netbiosDomain: 'LAB', upnSuffixes: ['lab.example'], url: 'ldaps://127.0.0.1:6360', ca: path.join(dir, 'tls/ldap.crt'), bindDn: 'uid=svc-gateway,ou=people,dc=lab,dc=example', bindPassword: 'Passw0rd!', baseDn: 'dc=lab,dc=example', flavor: 'openldap' },
        policy: DEMO_POLICY,
        signin: { zones: ['external'], failureTime: '100ms' },
        lockout: { threshold: 3 },
      }),
    });
  });
  after(async () => {
    await env?.stop();
    execFileSync('bash', [SCRIPTS + 'openldap.sh', 'down', dir]);
  });

  it('a wrong password is refused by the LDAP bind and never reaches Exchange; the right one signs bob in to the lab', async () => {
    const toExchange = () => env.lab.state.log.filter((e) => e.path === '/owa/auth.owa').length;
    const bad = new TestBrowser(env.port, env.pki.ca);
    const r = await bad.signIn('LAB\\bob', 'not-his-password');
    assert.equal(r.status, 200);
    assert.match(r.body, /incorrect/);
    assert.equal(toExchange(), 0, 'the LDAP bind refused it: Exchange saw nothing');
    const good = new TestBrowser(env.port, env.pki.ca);
    assert.equal((await good.signIn('bob@lab.example', 'Passw0rd!')).status, 302);
    assert.equal(toExchange(), 1);
    assert.equal((await good.request('GET', '/owa/')).header('x-lab-identity'), 'LAB\\bob');
  });

  it('carol (not in a group that may) is refused before any bind', async () => {
    const b = new TestBrowser(env.port, env.pki.ca);
    const r = await b.signIn('LAB\\carol', 'Passw0rd!');
    assert.equal(r.status, 200);
    assert.equal(b.jar.has('__Host-portcullis-session'), false);
  });
});
