// Every way an admin's first hour went wrong (issue 17), run through the real CLI as a child
// process: one line that says what, where and what to do, a non-zero exit code, and never a stack
// trace. (An unexpected error would print "unexpected error" and exit 70: these tests expect
// their own message and exit code, so a bug behind one of them fails here, not silently.)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { DEMO_DIRECTORY, DEMO_POLICY, type Env, type Pki, startEnv, testPki } from './helpers/env.js';

const BIN = new URL('../bin/portcullis.js', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;

interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI as a child process; asynchronous, so a gateway in this process keeps serving meanwhile. */
function run(args: readonly string[], env: Record<string, string> = {}, timeout = 30_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env } }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

/** No `at foo (file:1:2)` frame, no Node banner, no dumped error object. */
function assertNoStack(r: Ran): void {
  const all = r.stdout + r.stderr;
  assert.doesNotMatch(all, /^\s+at .+[:(]/m, `a stack trace:\n${all}`);
  assert.doesNotMatch(all, /Node\.js v\d|node:internal|errno: -/, `a Node error dump:\n${all}`);
}

/** The one-line failure: exit code, message, no stack. */
function assertFails(r: Ran, message: RegExp, status = 1): void {
  assert.equal(r.status, status, `exit code; stderr:\n${r.stderr}`);
  assert.match(r.stderr, message);
  assertNoStack(r);
}

/** A loopback port nothing listens on (bound and closed again). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('CLI errors are one line, never a stack trace', () => {
  let pki: Pki;
  let dir = '';
  let config = '';
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const gatewayConfig = (over: Record<string, unknown> = {}) =>
    stringify({
      listeners: [{ address: '127.0.0.1', port: 8443, tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
      upstream: { url: 'https://exch01.lab.local', tls: { ca: pki.caFile } },
      directory: { provider: 'file', file: DEMO_DIRECTORY },
      policy: DEMO_POLICY,
      ...over,
    });

  before(async () => {
    pki = await testPki();
    dir = mkdtempSync(path.join(pki.dir, 'cli-errors-'));
    config = write('gateway.yaml', gatewayConfig());
  });

  describe('revoke', () => {
    it('with no gateway running: says it cannot reach the admin endpoint and what to do', async () => {
      const port = await closedPort();
      const r = await run(['revoke', 'LAB\\bob', '--admin', `http://127.0.0.1:${port}`]);
      assertFails(r, new RegExp(`^portcullis: cannot reach the admin endpoint at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\): is the gateway running\\? Start it with portcullis serve`));
      assert.equal(r.stderr.trim().split('\n').length, 1);
    });

    it('--minutes abc: names the option and the value', async () => {
      assertFails(await run(['revoke', 'LAB\\bob', '--minutes', 'abc', '--admin', 'http://127.0.0.1:9']), /^portcullis: --minutes must be a positive number, not "abc"$/m);
    });

    it('--minutes beyond five years: refused before anything is sent', async () => {
      assertFails(await run(['revoke', 'LAB\\bob', '--minutes', '200000000000', '--admin', 'http://127.0.0.1:9']), /^portcullis: --minutes: must be at most 2628000 \(five years\); give none to revoke until lifted$/m);
    });

    it('--admin that is not a URL', async () => {
      assertFails(await run(['revoke', 'LAB\\bob', '--admin', 'localhost9090']), /--admin must be the endpoint's base URL, such as http:\/\/127\.0\.0\.1:9090, not "localhost9090"/);
    });

    it('-c with a config that has no admin token yet', async () => {
      const c = write('admin-no-token.yaml', gatewayConfig({ admin: { port: 9099, tokenFile: 'never-written.token' } }));
      assertFails(await run(['revoke', 'LAB\\bob', '-c', c]), /no admin token in .*never-written\.token yet: the gateway writes it at its first start/);
    });

    it('-c with a config file that does not exist', async () => {
      assertFails(await run(['revoke', 'LAB\\bob', '-c', path.join(dir, 'nope.yaml')]), /^portcullis: .*nope\.yaml: not found$/m);
    });

    describe('against a running gateway', () => {
      let env: Env;
      let admin: string[];
      let token: Record<string, string>;
      before(async () => {
        env = await startEnv();
        admin = ['--admin', env.runtime.admin!.url];
        token = { PORTCULLIS_ADMIN_TOKEN: env.runtime.admin!.token };
      });
      after(() => env.stop());

      it("a typo ('LAB\\bbo') says the user is unknown to the directory and revokes nothing", async () => {
        const r = await run(['revoke', 'LAB\\bbo', ...admin], token);
        assertFails(r, /^portcullis: LAB\\bbo is not in the directory: check the spelling \(--force acts on the name as given\)$/m);
        assert.doesNotMatch(r.stdout, /revoked/);
        assert.deepEqual(await (await fetch(`${env.runtime.admin!.url}/api/revocations`, { headers: { Authorization: `Bearer ${env.runtime.admin!.token}` } })).json(), []);
      });

      it('--force revokes the name as given; a known user is revoked under the directory spelling', async () => {
        const forced = await run(['revoke', 'LAB\\bbo', '--force', ...admin], token);
        assert.equal(forced.status, 0, forced.stderr);
        assert.match(forced.stdout, /revoked LAB\\bbo: 0 open connection\(s\) closed/);
        const bob = await run(['revoke', 'lab\\BOB', '--minutes', '5', ...admin], token);
        assert.equal(bob.status, 0, bob.stderr);
        assert.match(bob.stdout, /^revoked LAB\\bob: 0 open connection\(s\) closed/);
        const undo = await run(['revoke', 'LAB\\bob', '--undo', ...admin], token);
        assert.match(undo.stdout, /^LAB\\bob: revocation removed/);
        await run(['revoke', 'LAB\\bbo', '--undo', ...admin], token);
      });

      it('a user in no domain the gateway serves', async () => {
        assertFails(await run(['revoke', 'EVIL\\bob', ...admin], token), /^portcullis: EVIL\\bob is in no domain this gateway serves: check the spelling/m);
      });

      it('a refused token: what to pass', async () => {
        assertFails(await run(['revoke', 'LAB\\bob', ...admin], { PORTCULLIS_ADMIN_TOKEN: 'x'.repeat(43) }), /401 from http:.*: the admin token was refused; pass -c <gateway config>/);
      });

      it('policy explain --admin accepts the names admins use (activesync) and spells the user as the directory does', async () => {
        const r = await run(['policy', 'explain', '--user', 'lab\\DAVE', '--protocol', 'activesync', '--zone', 'external', ...admin], token);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^LAB\\dave eas from external: ALLOW/);
      });
    });
  });

  describe('policy explain --admin with the gateway\'s directory down', () => {
    let env: Env;
    let port = 0;
    before(async () => {
      port = await closedPort();
      const directory = { provider: 'ldap', url: `ldaps://127.0.0.1:${port}`, bindDn: 'svc@lab.example', bindPassword: 'x', baseDn: 'DC=lab,DC=example', netbiosDomain: 'LAB', upnSuffixes: ['lab.example'], timeout: '2s' };
      env = await startEnv({ config: (b) => ({ ...b, directory }) });
    });
    after(() => env.stop());

    it('says directory-unavailable and why', async () => {
      const r = await run(['policy', 'explain', '--user', 'LAB\\bob', '--protocol', 'ews', '--zone', 'external', '--admin', env.runtime.admin!.url], { PORTCULLIS_ADMIN_TOKEN: env.runtime.admin!.token });
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stdout, new RegExp(`reasons: directory-unavailable: .*127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
      assertNoStack(r);
    });

    it('revoke with the directory down revokes DOMAIN\\user as written, and says so', async () => {
      const r = await run(['revoke', 'LAB\\bob', '--admin', env.runtime.admin!.url], { PORTCULLIS_ADMIN_TOKEN: env.runtime.admin!.token });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^revoked LAB\\bob: 0 open connection/);
      assert.match(r.stderr, /note: the directory could not confirm LAB\\bob \(unavailable: .*ECONNREFUSED.*\): revoked by the name as given/);
    });
  });

  describe('policy explain', () => {
    it('--protocol activesync is eas; "outlook anywhere" is rpc, "mapi/http" is mapi', async () => {
      const dave = await run(['policy', 'explain', '--user', 'LAB\\dave', '--protocol', 'activesync', '--zone', 'external', '-c', config]);
      assert.equal(dave.status, 0, dave.stderr);
      assert.match(dave.stdout, /^LAB\\dave eas from external: ALLOW/);
      const bob = await run(['policy', 'explain', '--user', 'LAB\\bob', '--protocol', 'outlook anywhere', '--zone', 'external', '-c', config]);
      assert.match(bob.stdout, /^LAB\\bob rpc from external: ALLOW/);
      const mapi = await run(['policy', 'explain', '--user', 'LAB\\bob', '--protocol', 'MAPI/HTTP', '--zone', 'external', '-c', config]);
      assert.match(mapi.stdout, /^LAB\\bob mapi from external: ALLOW/);
    });

    it('an unknown protocol lists the protocols', async () => {
      assertFails(
        await run(['policy', 'explain', '--user', 'LAB\\bob', '--protocol', 'smtp', '--zone', 'external', '-c', config]),
        /^portcullis: unknown protocol "smtp": use one of autodiscover, rpc \(outlook anywhere\), mapi \(mapi\/http\), ews .*eas \(activesync\)/m,
      );
    });

    it('an unknown zone, and a user that is no logon name', async () => {
      assertFails(await run(['policy', 'explain', '--user', 'LAB\\bob', '--protocol', 'eas', '--zone', 'dmz', '-c', config]), /--zone must be external or internal, not "dmz"/);
      assertFails(await run(['policy', 'explain', '--user', 'LAB\\bob', '--protocol', 'eas', '--zone', 'external', '--client', 'notanip', '-c', config]), /--client must be an IPv4 or IPv6 address, not "notanip"/);
      assertFails(await run(['policy', 'explain', '--user', 'LAB\\', '--protocol', 'eas', '--zone', 'external', '-c', config]), /--user must be DOMAIN\\user or user@domain, not "LAB\\"/);
    });

    it('a config without a directory says so instead of "unknown-domain"', async () => {
      const c = write('no-directory.yaml', gatewayConfig({ directory: undefined }));
      assertFails(await run(['policy', 'explain', '--user', 'LAB\\bob', '--protocol', 'mapi', '--zone', 'external', '-c', c]), /no-directory\.yaml has no directory section, so the gateway knows no user/);
    });

    it('with the LDAP directory down: directory-unavailable and the cause', async () => {
      const port = await closedPort();
      const c = write(
        'ldap-down.yaml',
        gatewayConfig({
          directory: { provider: 'ldap', url: `ldaps://127.0.0.1:${port}`, bindDn: 'svc@lab.example', bindPassword: 'x', baseDn: 'DC=lab,DC=example', netbiosDomain: 'LAB', upnSuffixes: ['lab.example'], timeout: '2s' },
        }),
      );
      const r = await run(['policy', 'explain', '--user', 'LAB\\bob', '--protocol', 'mapi', '--zone', 'external', '-c', c]);
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stdout, /^LAB\\bob mapi from external: DENY/m);
      assert.match(r.stdout, new RegExp(`reasons: directory-unavailable: .*127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
      assertNoStack(r);
    });
  });

  describe('a bad directory file (policy explain -c, cas-plan -c)', () => {
    let bad = '';
    before(() => {
      const cyclic = readFileSync(DEMO_DIRECTORY, 'utf8').replace('  - name: Sales\n', '  - name: Sales\n    members: [Outlook-Remote]\n');
      const file = write('cyclic-directory.yaml', cyclic);
      bad = write('bad-directory.yaml', gatewayConfig({ directory: { provider: 'file', file } }));
    });

    for (const args of [['policy', 'explain', '--user', 'LAB\\bob', '--protocol', 'mapi', '--zone', 'external'], ['cas-plan']]) {
      it(`${args[0]}: every problem with file:line:column, then what to do`, async () => {
        const r = await run([...args, '-c', bad]);
        assertFails(r, /cyclic-directory\.yaml:\d+:\d+: groups\[0\]\.members: group nesting cycle: Outlook-Remote -> Sales -> Outlook-Remote/);
        assert.match(r.stderr, /1 problem\(s\) in the directory file .*cyclic-directory\.yaml: fix them, then run again/);
      });
    }

    it('cas-plan with the LDAP directory down says why', async () => {
      const port = await closedPort();
      const c = write(
        'cas-ldap-down.yaml',
        gatewayConfig({ directory: { provider: 'ldap', url: `ldaps://127.0.0.1:${port}`, bindDn: 'svc@lab.example', bindPassword: 'x', baseDn: 'DC=lab,DC=example', netbiosDomain: 'LAB', upnSuffixes: ['lab.example'] } }),
      );
      assertFails(await run(['cas-plan', '-c', c]), /^portcullis: directory-unavailable: .*ECONNREFUSED.*check directory\.urls/m);
    });

    it('cas-plan --current that is not a Get-CASMailbox export', async () => {
      assertFails(await run(['cas-plan', '-c', config, '--current', write('export.json', '{ not json')]), /--current .*export\.json: not JSON .*ConvertTo-Json/);
      assertFails(await run(['cas-plan', '-c', config, '--current', path.join(dir, 'missing.json')]), /--current .*missing\.json: not found/);
    });
  });

  describe('doctor', () => {
    it('mail.contoso.com style targets mean https://', async () => {
      const port = await closedPort();
      const r = await run(['doctor', `127.0.0.1:${port}`, '--protocols', 'autodiscover', '--timeout', '2000', '--json']);
      assertNoStack(r);
      const report = JSON.parse(r.stdout) as { url: string };
      assert.equal(report.url, `https://127.0.0.1:${port}`);
    });

    it('http:// and unknown protocols are refused with the fix', async () => {
      assertFails(await run(['doctor', 'http://mail.contoso.com']), /the target "http:\/\/mail\.contoso\.com": the doctor tests HTTPS endpoints; use https:\/\/mail\.contoso\.com/);
      assertFails(await run(['doctor', 'mail.contoso.com', '--protocols', 'rpc,smtp']), /--protocols: unknown protocol\(s\) "smtp": use a comma-separated list of autodiscover, rpc/);
    });
  });

  describe('serve', () => {
    let busy: net.Server;
    let busyPort = 0;
    before(async () => {
      busy = net.createServer();
      await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
      busyPort = (busy.address() as net.AddressInfo).port;
    });
    after(() => new Promise<void>((r) => busy.close(() => r())));

    it('on a busy port: the address, the setting at file:line:column, and what to do', async () => {
      const c = write('busy.yaml', gatewayConfig({ listeners: [{ address: '127.0.0.1', port: busyPort, tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }], log: { level: 'silent' } }));
      assertFails(
        await run(['serve', '-c', c]),
        new RegExp(`^portcullis: cannot listen on 127\\.0\\.0\\.1:${busyPort} \\(.*busy\\.yaml:\\d+:\\d+: listeners\\[0\\]\\.port\\): another process already uses this port`, 'm'),
      );
    });

    it('with the admin port busy: says so and exits (nothing left listening keeps it alive)', async () => {
      const c = write(
        'busy-admin.yaml',
        gatewayConfig({ listeners: [{ address: '127.0.0.1', port: 0, tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }], admin: { port: busyPort, tokenFile: 'busy-admin.token' }, log: { level: 'silent' } }),
      );
      const r = await run(['serve', '-c', c], {}, 20_000);
      assertFails(r, /cannot listen on 127\.0\.0\.1:\d+ \(.*busy-admin\.yaml:\d+:\d+: admin\.port\): another process already uses this port/);
    });

    it('with workers: the primary says why once and stops, instead of forking again', async () => {
      const c = write('busy-workers.yaml', gatewayConfig({ workers: 2, listeners: [{ address: '127.0.0.1', port: busyPort, tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }], log: { level: 'silent' } }));
      const r = await run(['serve', '-c', c], {}, 20_000);
      assertFails(r, /cannot listen on 127\.0\.0\.1:\d+ \(.*listeners\[0\]\.port\): another process already uses this port/);
      assert.equal(r.stderr.match(/cannot listen/g)?.length, 1);
    });

    it('on an address this host does not have', async () => {
      const c = write('no-address.yaml', gatewayConfig({ listeners: [{ address: '192.0.2.1', port: 0, tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }], log: { level: 'silent' } }));
      assertFails(await run(['serve', '-c', c]), /cannot listen on 192\.0\.2\.1 \(.*no-address\.yaml:\d+:\d+: listeners\[0\]\.address\): this host has no such address/);
    });
  });

  describe('lab', () => {
    it('--cert missing.crt: not found', async () => {
      assertFails(await run(['lab', '-d', DEMO_DIRECTORY, '--cert', 'missing.crt', '--key', pki.labKey]), /^portcullis: --cert missing\.crt: not found$/m);
    });

    it('a key that is no certificate, a bad port', async () => {
      assertFails(await run(['lab', '-d', DEMO_DIRECTORY, '--cert', pki.labKey, '--key', pki.labKey, '--port', '0']), /--port must be a port number \(1-65535\), not "0"/);
      const port = String(await closedPort());
      assertFails(await run(['lab', '-d', DEMO_DIRECTORY, '--cert', pki.labKey, '--key', pki.labKey, '--port', port]), /--cert\/--key: the certificate and key cannot be used .*: give a PEM certificate and its own private key/);
    });

    it('a bad directory file', async () => {
      const d = write('lab-dir.yaml', 'domains: {netbios: [LAB], upnSuffixes: [lab.example]}\ngroups: []\nusers:\n  - {sAMAccountName: x, domain: LAB, userPrincipalName: x@lab.example, mail: x@lab.example, grups: []}\n');
      assertFails(await run(['lab', '-d', d, '--cert', pki.labCert, '--key', pki.labKey]), /lab-dir\.yaml:4:\d+: users\[0\]\.grups: unknown setting "grups" \(did you mean "groups"\?\)/);
    });
  });

  describe('config check', () => {
    it('a missing file: `file: not found`, not file:0:0', async () => {
      const r = await run(['config', 'check', path.join(dir, 'nope.yaml')]);
      assertFails(r, /^\S*nope\.yaml: not found$/m);
      assert.doesNotMatch(r.stderr, /:0:0/);
    });

    it('a missing required key says "required" and names it', async () => {
      assertFails(await run(['config', 'check', write('no-url.yaml', 'listeners: []\nupstream:\n  tls: {}\n')]), /no-url\.yaml:3:3: upstream: required setting "url" is missing \(string\)/);
    });

    it('an unknown key gets "did you mean" from the keys allowed at that path', async () => {
      const r = await run(['config', 'check', write('typo.yaml', gatewayConfig({ lockuot: { threshold: 3 }, policy: { ...DEMO_POLICY, kerberoz: 'deny' } }))]);
      assertFails(r, /lockuot: unknown setting "lockuot" \(did you mean "lockout"\?\)/);
      assert.match(r.stderr, /policy\.kerberoz: unknown setting "kerberoz" \(did you mean "kerberos"\?\)/);
      const far = await run(['config', 'check', write('bogus.yaml', gatewayConfig({ bogus: 1 }))]);
      assert.match(far.stderr, /bogus: unknown setting "bogus"$/m);
    });

    it('a YAML syntax error: file:line:column, without the library\'s "at line 6, column 1:" tail', async () => {
      const r = await run(['config', 'check', write('syntax.yaml', 'listeners:\n  - port: 1\nupstream: {url: https://x\nlog: {}\n')]);
      assertFails(r, /syntax\.yaml:\d+:\d+: /);
      assert.doesNotMatch(r.stderr, /at line \d+, column \d+/);
      assert.doesNotMatch(r.stderr, /\^/);
    });

    it('schema errors and file errors in one pass, with the directory file too', async () => {
      const cyclic = write('check-cyclic.yaml', readFileSync(DEMO_DIRECTORY, 'utf8').replace('  - name: Sales\n', '  - name: Sales\n    members: [Outlook-Remote]\n'));
      const c = write('both.yaml', gatewayConfig({ listeners: [{ address: '127.0.0.1', port: 99999, tls: { certificates: [{ cert: 'missing.crt', key: pki.gatewayKey }] } }], directory: { provider: 'file', file: cyclic } }));
      const r = await run(['config', 'check', c]);
      assertFails(r, /listeners\[0\]\.port: Too big/);
      assert.match(r.stderr, /listeners\[0\]\.tls\.certificates\[0\]\.cert: certificate .*missing\.crt: not found/);
      assert.match(r.stderr, /check-cyclic\.yaml:\d+:\d+: groups\[0\]\.members: group nesting cycle/);
      assert.match(r.stderr, /3 problem\(s\) in /);
    });

    it('a policy rule naming a group or user the file directory does not have is an error, with "did you mean"', async () => {
      const policy = { ...DEMO_POLICY, rules: [...DEMO_POLICY.rules, { name: 'typo', effect: 'allow', groups: ['Slaes'], users: ['LAB\\bbo'] }] };
      const r = await run(['config', 'check', write('groups.yaml', gatewayConfig({ policy }))]);
      assertFails(r, /policy\.rules\[3\]\.groups\[0\]: rule "typo": group "Slaes" is not in the directory file .* \(did you mean "Sales"\?\): the rule matches nobody through it/);
      assert.match(r.stderr, /policy\.rules\[3\]\.users\[0\]: rule "typo": user "LAB\\bbo" is not in the directory file .* \(did you mean "LAB\\bob"\?\)/);
    });

    it('warns about an omitted listener address and an internal listener offering Negotiate while Kerberos is denied', async () => {
      const listeners = [
        { port: 8443, tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } },
        { address: '0.0.0.0', port: 8444, zone: 'internal', tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } },
      ];
      const r = await run(['config', 'check', write('warn.yaml', gatewayConfig({ listeners }))]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /warning: .*warn\.yaml:2:\d+: listeners\[0\]: no address: listening on 127\.0\.0\.1 \(loopback\) only/);
      assert.match(r.stderr, /warning: .*listeners\[1\]\.zone: internal clients here are offered Negotiate .* but Kerberos is denied in the internal zone \(policy\.kerberos: deny\)/);
      assert.match(r.stdout, /warn\.yaml: ok, 2 warning\(s\)/);
      const fixed = await run(['config', 'check', write('warn-fixed.yaml', gatewayConfig({ listeners: [listeners[1]], policy: { ...DEMO_POLICY, stripNegotiate: ['external', 'internal'] } }))]);
      assert.equal(fixed.status, 0, fixed.stderr);
      assert.doesNotMatch(fixed.stderr, /warning/);
    });

    it('the demo config works before the demo ever ran, or says the demo generates its certificates', async () => {
      const r = await run(['config', 'check', path.join(ROOT, 'examples/demo/portcullis.yaml')]);
      assertNoStack(r);
      if (existsSync(path.join(ROOT, '.demo/gateway.crt'))) assert.equal(r.status, 0, r.stderr);
      else assertFails(r, /gateway\.crt: not found \(the demo generates it on its first run: npm run demo\)/);
    });
  });
});
