// examples/production/portcullis.yaml is what an admin copies to /etc/portcullis/: the real CLI's
// `config check` must accept it. The files it names (certificate, key, CA, bind password) belong
// to the site, so the test makes throw-away ones at the same relative paths in a temp copy: the
// example itself keeps the paths an admin will really use.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCa, issueServerCert } from '../src/lab/certs.js';

const BIN = new URL('../bin/portcullis.js', import.meta.url).pathname;
const EXAMPLE = new URL('../examples/production/portcullis.yaml', import.meta.url).pathname;
const check = (file: string) =>
  spawnSync(process.execPath, [BIN, 'config', 'check', file], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });

describe('examples/production/portcullis.yaml', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-production-'));
    copyFileSync(EXAMPLE, path.join(dir, 'portcullis.yaml'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('config check names the site files it needs while they are missing', () => {
    const r = check(path.join(dir, 'portcullis.yaml'));
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /mail\.contoso\.com\.crt/);
    assert.match(r.stderr, /ldap-bind\.password/);
  });

  it('config check accepts it once the files exist', async () => {
    const ca = await createCa('Contoso Root CA');
    const leaf = await issueServerCert(ca, { names: ['mail.contoso.com', 'autodiscover.contoso.com'] });
    mkdirSync(path.join(dir, 'tls'));
    mkdirSync(path.join(dir, 'secrets'), { mode: 0o700 });
    writeFileSync(path.join(dir, 'tls/mail.contoso.com.crt'), leaf.cert + ca.cert);
    writeFileSync(path.join(dir, 'tls/mail.contoso.com.key'), leaf.key, { mode: 0o600 });
    writeFileSync(path.join(dir, 'tls/contoso-root-ca.crt'), ca.cert);
    writeFileSync(path.join(dir, 'secrets/ldap-bind.password'), 'not-a-real-password\n', { mode: 0o600 });
    const r = check(path.join(dir, 'portcullis.yaml'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /portcullis\.yaml: ok/);
    // Not a warning either (the example shows the clean way: no key readable by all, admin on
    // loopback), except the one a check away from the customer's network must give: the policy's
    // groups are looked up in AD, and contoso's domain controllers do not exist here.
    const warnings = r.stderr.split('\n').filter((l) => /warning/.test(l));
    assert.deepEqual(warnings.filter((l) => !/the policy's groups were not checked, the directory did not answer: LDAP ldaps:\/\/dc[12]\.corp\.contoso\.com/.test(l)), []);
    assert.equal(warnings.length, 1, 'the unreachable directory is said once');
  });
});
