// The ldap directory provider against real directories started on loopback by scripts/:
// Samba as an Active Directory DC (memberOf through the group graph, tokenGroups and the in-chain rule, disabled accounts, StartTLS
// and LDAPS) and OpenLDAP (groupOfNames walking, fail-closed after the grace period). The
// behaviour at scale (pool, breaker, failover, login storm) is in ldap-at-scale.test.ts.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { directoryConfigSchema, type LdapConfig } from '../../src/directory/directory-config.js';
import { LdapDirectory } from '../../src/directory/ldap-provider.js';
import { stringify } from 'yaml';
import { DEMO_POLICY, startEnv, testPki } from '../helpers/env.js';
import { postSignIn } from '../helpers/console-client.js';
import { RawClient } from '../../src/doctor/http-probe.js';

const SCRIPTS = new URL('../../scripts/', import.meta.url).pathname;
const BIN = new URL('../../bin/portcullis.js', import.meta.url).pathname;

/** The real CLI on a gateway config with this directory section (the demo's policy, plus `rules`). */
async function cli(dir: string, directory: Record<string, unknown>, args: string[], rules: unknown[] = []): Promise<{ status: number; stdout: string; stderr: string }> {
  const pki = await testPki();
  const config = path.join(dir, `cli-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    config,
    stringify({
      listeners: [{ address: '127.0.0.1', port: 8443, tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
      upstream: { url: 'https://exch01.lab.local', tls: { ca: pki.caFile } },
      directory: { provider: 'ldap', netbiosDomain: 'LAB', upnSuffixes: ['lab.example'], ...directory },
      policy: { ...DEMO_POLICY, rules: [...DEMO_POLICY.rules, ...rules] },
    }),
  );
  return new Promise((resolve) =>
    execFile(process.execPath, [BIN, ...args.map((a) => (a === '{config}' ? config : a))], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
    ),
  );
}
const log = pino({ level: 'silent' });
const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

function ldapConfig(over: Record<string, unknown>): LdapConfig {
  return directoryConfigSchema.parse({ provider: 'ldap', netbiosDomain: 'LAB', upnSuffixes: ['lab.example'], ...over }) as LdapConfig;
}

describe('ldap provider against Samba AD', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pc-samba-'));
  const ad = (over: Record<string, unknown> = {}) =>
    ldapConfig({ url: 'ldaps://127.0.0.1:636', ca: path.join(dir, 'tls/dc.crt'), bindDn: 'svc-gateway@lab.example', bindPassword: 'Svc-Passw0rd!', baseDn: 'CN=Users,DC=lab,DC=example', flavor: 'ad', ...over });
  before(() => {
    const t0 = Date.now();
    execFileSync('bash', [SCRIPTS + 'samba-dc.sh', 'up', dir], { stdio: 'pipe' });
    console.log(`# Samba AD DC provisioned and started in ${Date.now() - t0} ms`);
  });
  after(() => execFileSync('bash', [SCRIPTS + 'samba-dc.sh', 'down', dir]));

  for (const groupResolution of ['member-of', 'token-groups', 'in-chain'] as const) {
    it(`finds users by DOMAIN\\user and UPN, with nested groups (${groupResolution})`, async () => {
      const d = new LdapDirectory(ad({ groupResolution }), log);
      // A token also carries the primary group, which the in-chain rule (member links) cannot see.
      const primary = groupResolution === 'in-chain' ? [] : ['Domain Users'];
      const bob = await d.lookup({ domain: 'LAB', user: 'bob' });
      assert.equal(bob.status, 'found');
      if (bob.status === 'found') {
        assert.deepEqual([...bob.entry.groups].sort(), [...primary, 'Outlook-Remote', 'Sales']);
        assert.equal(bob.entry.key, 'LAB\\bob');
        assert.equal(bob.entry.enabled, true);
      }
      const byUpn = await d.lookup({ domain: '', user: 'bob@lab.example' });
      assert.ok(byUpn.status === 'found' && byUpn.entry.key === 'LAB\\bob');
      const carol = await d.lookup({ domain: 'LAB', user: 'carol' });
      assert.ok(carol.status === 'found' && carol.entry.groups.join() === primary.join(), JSON.stringify(carol));
      assert.equal((await d.lookup({ domain: 'LAB', user: 'nobody' })).status, 'not-found');
      assert.equal((await d.lookup({ domain: 'EVIL', user: 'bob' })).status, 'unknown-domain');
      await d.close();
    });
  }

  it('reports a disabled account as disabled', async () => {
    const d = new LdapDirectory(ad(), log);
    const erin = await d.lookup({ domain: 'LAB', user: 'erin' });
    assert.ok(erin.status === 'found' && erin.entry.enabled === false);
    await d.close();
  });

  it('cas-plan enumerates the mailboxes from AD (CLI)', async () => {
    const r = await cli(dir, { url: 'ldaps://127.0.0.1:636', ca: path.join(dir, 'tls/dc.crt'), bindDn: 'svc-gateway@lab.example', bindPassword: 'Svc-Passw0rd!', baseDn: 'CN=Users,DC=lab,DC=example' }, ['cas-plan', '-c', '{config}', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as Array<{ identity: string; user: string; intended: Record<string, boolean> }>;
    // The users with a mailbox (mail): not the service account, Administrator or krbtgt.
    assert.deepEqual(plan.map((p) => p.user), ['LAB\\alice', 'LAB\\bob', 'LAB\\carol', 'LAB\\erin']);
    const by = new Map(plan.map((p) => [p.identity, p.intended]));
    assert.deepEqual(by.get('bob@lab.example'), { MAPIBlockOutlookRpcHttp: false, MAPIBlockOutlookExternalConnectivity: false }, 'bob through nested Sales');
    assert.deepEqual(by.get('carol@lab.example'), { MAPIBlockOutlookRpcHttp: false, MAPIBlockOutlookExternalConnectivity: true });
  });

  it('config check looks up the groups the policy names in AD: a warning for each it does not find', async () => {
    const directory = { url: 'ldaps://127.0.0.1:636', ca: path.join(dir, 'tls/dc.crt'), bindDn: 'svc-gateway@lab.example', bindPassword: 'Svc-Passw0rd!', baseDn: 'CN=Users,DC=lab,DC=example' };
    const r = await cli(dir, directory, ['config', 'check', '{config}'], [{ name: 'typo', effect: 'allow', groups: ['Slaes'] }]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: .*policy\.rules\[3\]\.groups\[0\]: rule "typo": group "Slaes" is not in the directory under CN=Users,DC=lab,DC=example \(did you mean "Sales"\?\)/);
    // Mobile-Only and MAPI-Only (the demo policy's) do not exist in this AD either; Outlook-Remote does.
    assert.match(r.stderr, /group "Mobile-Only" is not in the directory/);
    assert.doesNotMatch(r.stderr, /group "Outlook-Remote"/);
  });

  it('checks passwords by bind (empty passwords never pass), over StartTLS too', async () => {
    const d = new LdapDirectory(ad({ url: 'ldap://127.0.0.1:389', startTls: true }), log);
    const bob = await d.lookup({ domain: 'LAB', user: 'bob' });
    assert.equal(bob.status, 'found');
    if (bob.status !== 'found') return;
    assert.equal(await d.verifyPassword(bob.entry, 'Passw0rd!'), 'ok');
    assert.equal(await d.verifyPassword(bob.entry, 'Passw0rd!'), 'ok', 'cached under a salted hash');
    assert.equal(await d.verifyPassword(bob.entry, 'wrong'), 'bad-password');
    assert.equal(await d.verifyPassword(bob.entry, ''), 'bad-password');
    await d.close();
  });

  it('a password that must be changed is "expired" to its right password only (AD: data 773), never a failure', async () => {
    execFileSync('samba-tool', ['user', 'create', 'frank', 'Fr4nk-Passw0rd!', '--must-change-at-next-login', '-s', path.join(dir, 'etc/smb.conf')], { stdio: 'pipe' });
    const d = new LdapDirectory(ad(), log);
    try {
      const frank = await d.lookup({ domain: 'LAB', user: 'frank' });
      assert.equal(frank.status, 'found');
      if (frank.status !== 'found') return;
      assert.equal(await d.verifyPassword(frank.entry, 'Fr4nk-Passw0rd!'), 'expired');
      assert.equal(await d.verifyPassword(frank.entry, 'wrong'), 'bad-password');
    } finally {
      await d.close();
      execFileSync('samba-tool', ['user', 'delete', 'frank', '-s', path.join(dir, 'etc/smb.conf')], { stdio: 'pipe' });
    }
  });

  it('the gateway on the AD directory: bob allowed, carol and erin denied, a bad Basic password stopped by pre-authentication', async () => {
    const env = await startEnv({
      config: (b) => ({ ...b, directory: { provider: 'ldap', url: 'ldaps://127.0.0.1:636', ca: path.join(dir, 'tls/dc.crt'), bindDn: 'svc-gateway@lab.example', bindPassword: 'Svc-Passw0rd!', baseDn: 'CN=Users,DC=lab,DC=example', netbiosDomain: 'LAB', upnSuffixes: ['lab.example'], cacheTtl: '1s' }, preauth: 'ldap' }),
    });
    try {
      const req = async (user: string, pw = 'Passw0rd!') => {
        const c = await RawClient.connect(env.port, env.pki.ca);
        const r = await c.request('POST', '/EWS/Exchange.asmx', { Authorization: basic(user, pw) }, '<x/>');
        c.close();
        return r;
      };
      assert.equal((await req('LAB\\bob')).header('x-lab-identity'), 'LAB\\bob');
      assert.equal((await req('LAB\\carol')).head.status, 403);
      // AD refuses a disabled account's bind, so erin cannot prove her password: from outside her
      // refusal looks like a wrong password (concealed), and Exchange never sees her credentials.
      const seen = env.lab.state.log.length;
      const erin = await req('LAB\\erin');
      assert.equal(erin.head.status, 401);
      assert.equal(erin.header('x-portcullis-reason'), undefined);
      assert.ok(env.lab.state.log.slice(seen).every((e) => e.claimedUser === undefined), 'her credentials never reach Exchange');
      const before = env.lab.state.log.length;
      const bad = await req('LAB\\bob', 'wrong');
      assert.equal(bad.head.status, 401);
      assert.equal(bad.header('x-portcullis-reason'), undefined, 'external refusals before proof are concealed');
      assert.ok(env.lab.state.log.slice(before).every((e) => e.claimedUser === undefined), 'a wrong password never reaches Exchange');

      // Live: take Sales out of Outlook-Remote in AD; bob's open connection is cut at the next refresh.
      const c = await RawClient.connect(env.port, env.pki.ca);
      assert.equal((await c.request('GET', '/owa/', { Authorization: basic('LAB\\bob') })).head.status, 200);
      const t0 = Date.now();
      execFileSync('samba-tool', ['group', 'removemembers', 'Outlook-Remote', 'Sales', '-s', path.join(dir, 'etc/smb.conf')], { stdio: 'pipe' });
      await c.waitClosed(5_000);
      const cut = Date.now() - t0;
      console.log(`# AD membership change -> bob's connection closed: ${cut} ms (cacheTtl 1 s)`);
      assert.ok(cut < 2000, `cut after ${cut} ms: the refresh-ahead of a 1 s TTL should find it within about 1 s`);
      execFileSync('samba-tool', ['group', 'addmembers', 'Outlook-Remote', 'Sales', '-s', path.join(dir, 'etc/smb.conf')], { stdio: 'pipe' });
    } finally {
      await env.stop();
    }
  });
  it('the admin console on AD: directory-group sign-in (password by LDAP bind), prefix search, nested group chains', async () => {
    const env = await startEnv({
      config: (b) => ({
        ...b,
        directory: { provider: 'ldap', url: 'ldaps://127.0.0.1:636', ca: path.join(dir, 'tls/dc.crt'), bindDn: 'svc-gateway@lab.example', bindPassword: 'Svc-Passw0rd!', baseDn: 'CN=Users,DC=lab,DC=example', netbiosDomain: 'LAB', upnSuffixes: ['lab.example'] },
        admin: { ...(b['admin'] as object), console: { directoryGroups: [{ group: 'Outlook-Remote', role: 'operator' }, { group: 'Sales', role: 'viewer' }], signInLimit: { perAccount: 20, perAddress: 50, window: '15m' } } },
      }),
    });
    try {
      const admin = env.runtime.admin!.url;
      // bob is in Sales, which is in Outlook-Remote: operator wins over viewer.
      const bob = await postSignIn(admin, 'LAB\\bob', 'Passw0rd!');
      assert.equal(bob.status, 303);
      const cookie = bob.headers.getSetCookie().find((c) => c.startsWith('portcullis_console='))!.split(';')[0]!;
      const home = await (await fetch(`${admin}/console/`, { headers: { Cookie: cookie } })).text();
      assert.match(home, /LAB\\bob/);
      assert.match(home, /operator/);
      // A wrong password, a user in no console group and an unknown user get the same answer.
      const refusals = await Promise.all([postSignIn(admin, 'LAB\\bob', 'wrong'), postSignIn(admin, 'LAB\\carol', 'Passw0rd!'), postSignIn(admin, 'LAB\\nobody', 'Passw0rd!')]);
      const bodies = await Promise.all(refusals.map(async (r) => [r.status, (await r.text()).replace(/value="[^"]*"/g, '')].join(' ')));
      assert.equal(refusals[0]!.status, 401);
      assert.equal(new Set(bodies).size, 1, 'no answer tells which it was');
      const get = async (p: string) => (await fetch(`${admin}${p}`, { headers: { Cookie: cookie } })).text();
      const found = await get('/console/users?q=al');
      assert.match(found, /LAB\\alice/, 'a prefix finds alice in AD');
      assert.doesNotMatch(found.slice(found.indexOf('<tbody>')), /LAB\\bob/, 'and only those it matches');
      const view = await get(`/console/users/view?user=${encodeURIComponent('LAB\\bob')}`);
      assert.match(view, /<li>Sales → Outlook-Remote<\/li>/, 'the nesting that gave bob Outlook-Remote');
      await new Promise((r) => setTimeout(r, 400));
      const recs = await env.runtime.audit!.writer.store.query({ event: 'console-sign-in' }, { order: 'asc' });
      const seen = recs.map((r) => `${r.user} ${r.decision} ${r.cause ?? ''}`.trim()).sort();
      assert.deepEqual(seen, ['LAB\\bob allow signed-in', 'LAB\\bob deny bad-password', 'LAB\\carol deny not-in-group', 'LAB\\nobody deny unknown-account'], JSON.stringify(seen));
    } finally {
      await env.stop();
    }
  });
});

describe('ldap provider against OpenLDAP', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pc-openldap-'));
  const cfg = (over: Record<string, unknown> = {}) =>
    ldapConfig({ url: 'ldaps://127.0.0.1:6360', ca: path.join(dir, 'tls/ldap.crt'), bindDn: 'uid=svc-gateway,ou=people,dc=lab,dc=example', bindPassword: 'Passw0rd!', baseDn: 'dc=lab,dc=example', flavor: 'openldap', ...over });
  before(() => execFileSync('bash', [SCRIPTS + 'openldap.sh', 'up', dir], { stdio: 'pipe' }));
  after(() => execFileSync('bash', [SCRIPTS + 'openldap.sh', 'down', dir]));

  it('walks nested groupOfNames (no in-chain rule there)', async () => {
    const d = new LdapDirectory(cfg(), log);
    const bob = await d.lookup({ domain: 'LAB', user: 'bob' });
    assert.ok(bob.status === 'found');
    if (bob.status === 'found') assert.deepEqual([...bob.entry.groups].sort(), ['Outlook-Remote', 'Sales']);
    const alice = await d.lookup({ domain: '', user: 'alice@lab.example' });
    assert.ok(alice.status === 'found' && alice.entry.groups.join() === 'Outlook-Remote');
    assert.equal(await d.verifyPassword((bob as { entry: Parameters<typeof d.verifyPassword>[0] }).entry, 'Passw0rd!'), 'ok');
    await d.close();
  });

  it('cas-plan enumerates the mailboxes from OpenLDAP, groups walked (CLI)', async () => {
    const r = await cli(dir, { url: 'ldaps://127.0.0.1:6360', ca: path.join(dir, 'tls/ldap.crt'), bindDn: 'uid=svc-gateway,ou=people,dc=lab,dc=example', bindPassword: 'Passw0rd!', baseDn: 'dc=lab,dc=example', flavor: 'openldap' }, ['cas-plan', '-c', '{config}', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as Array<{ user: string; intended: Record<string, boolean> }>;
    const by = new Map(plan.map((p) => [p.user, p.intended]));
    assert.deepEqual(by.get('LAB\\bob'), { MAPIBlockOutlookRpcHttp: false, MAPIBlockOutlookExternalConnectivity: false });
    assert.deepEqual(by.get('LAB\\carol'), { MAPIBlockOutlookRpcHttp: false, MAPIBlockOutlookExternalConnectivity: true });
  });

  it('serves from cache within the grace period, then fails closed', async () => {
    let now = Date.now();
    const d = new LdapDirectory(cfg({ cacheTtl: 1000, gracePeriod: 2000, timeout: 1000 }), log, () => now);
    assert.equal((await d.lookup({ domain: 'LAB', user: 'bob' })).status, 'found');
    execFileSync('bash', [SCRIPTS + 'openldap.sh', 'down', dir]);
    await new Promise((r) => setTimeout(r, 300));
    now += 1500; // past the TTL, within the grace period
    assert.equal((await d.lookup({ domain: 'LAB', user: 'bob' })).status, 'found');
    now += 2000; // past TTL + grace
    const r = await d.lookup({ domain: 'LAB', user: 'bob' });
    assert.equal(r.status, 'unavailable');
    if (r.status === 'unavailable') assert.match(r.reason, /LDAP ldaps:\/\/127\.0\.0\.1:6360/);
    await d.close();
    execFileSync('bash', [SCRIPTS + 'openldap.sh', 'up', dir], { stdio: 'pipe' });
  });
});
