// The doctor against the lab and the gateway, healthy and with one fault at a time; each fault
// must be named by its id. DNS comes from the lab responder on loopback (--resolver).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderText } from '../src/doctor/render.js';
import { runDoctor } from '../src/doctor/run.js';
import type { DoctorOptions } from '../src/doctor/types.js';
import { issueServerCert, selfSignedServerCert } from '../src/lab/certs.js';
import { type DnsResponder, labZone, startDnsResponder } from '../src/lab/dns-responder.js';
import { type Env, type EnvOptions, RPC_TARGET, startEnv, testPki } from './helpers/env.js';
import { cannedServer } from './helpers/canned-upstream.js';

let dns: DnsResponder;
before(async () => {
  dns = await startDnsResponder(labZone(0));
});
after(() => dns.stop());

function opts(port: number, over: Partial<DoctorOptions> = {}): DoctorOptions {
  return {
    url: `https://mail.lab.example:${port}`,
    email: 'alice@lab.example',
    user: 'LAB\\alice',
    password: 'Passw0rd!',
    protocols: ['autodiscover', 'rpc', 'mapi', 'ews'],
    resolver: `127.0.0.1:${dns.port}`,
    timeoutMs: 3000,
    idleHoldMs: 500,
    ...over,
  };
}

async function doctor(env: Env | { port: number }, over: Partial<DoctorOptions> = {}) {
  const pki = await testPki();
  dns.setZone(labZone(env.port));
  const report = await runDoctor(opts(env.port, { ca: pki.caFile, ...over }));
  const ids = report.results.flatMap((r) => r.findings.map((f) => f.id));
  return { report, ids };
}

/** The gateway and the lab, MAPI PENDING keep-alives every 200 ms so that the idle-channel check stays short. */
function labEnv(o: EnvOptions = {}): Promise<Env> {
  return startEnv({ ...o, lab: { mapi: { pendingPeriodMs: 200, notificationWaitMs: 60_000 }, ...(o.lab ?? {}) } });
}

/** A misbehaving reverse proxy in front of Exchange. */
async function fakeProxy(mode: '405' | 'buffering') {
  const offers = 'WWW-Authenticate: NTLM\r\nWWW-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n';
  const p = await cannedServer((head) => Buffer.from(`HTTP/1.1 ${mode === '405' && /^RPC_/.test(head) ? '405 Method Not Allowed' : '401 Unauthorized'}\r\n${offers}`), { identity: 'gateway', waitForBody: mode === 'buffering' });
  return { port: p.port, stop: () => p.stop() };
}

async function envWithCert(pem: { cert: string; key: string }) {
  const pki = await testPki();
  const dir = path.join(pki.dir, `cert-${Math.random().toString(16).slice(2)}`);
  (await import('node:fs')).mkdirSync(dir);
  writeFileSync(path.join(dir, 'c.crt'), pem.cert);
  writeFileSync(path.join(dir, 'c.key'), pem.key);
  return labEnv({ config: (b) => ({ ...b, listeners: [{ ...(b.listeners as Array<Record<string, unknown>>)[0], tls: { certificates: [{ cert: path.join(dir, 'c.crt'), key: path.join(dir, 'c.key') }] } }] }) });
}

describe('portcullis doctor', () => {
  it('passes a healthy setup (exit 0, no finding)', async () => {
    const env = await labEnv();
    try {
      const { report, ids } = await doctor(env);
      assert.deepEqual(ids, []);
      assert.equal(report.exitCode, 0);
      assert.ok(report.results.some((r) => r.title.startsWith('RTS handshake') && r.status === 'pass'));
    } finally {
      await env.stop();
    }
  });

  const scenarios: Array<[string, string, () => Promise<{ env?: Env; port: number; over?: Partial<DoctorOptions>; stop: () => Promise<void> | void }>]> = [
    ['no autodiscover record', 'DNS-AUTODISCOVER-MISSING', async () => {
      const env = await labEnv();
      return { env, port: env.port, stop: () => env.stop(), zone: true };
    }],
    ['port closed', 'NET-PORT-CLOSED', async () => {
      const s = net.createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      const port = (s.address() as AddressInfo).port;
      await new Promise<void>((r) => s.close(() => r()));
      return { port, stop: () => {} };
    }],
    ['certificate missing a published name', 'TLS-SAN-MISSING', async () => {
      const env = await envWithCert(await issueServerCert((await testPki()).issuer, { names: ['mail.lab.example'], ips: ['127.0.0.1'] }));
      return { env, port: env.port, stop: () => env.stop() };
    }],
    ['expired certificate', 'TLS-CERT-EXPIRED', async () => {
      const env = await envWithCert(await issueServerCert((await testPki()).issuer, { names: ['mail.lab.example', 'autodiscover.lab.example'], notBeforeDays: 400, days: 30 }));
      return { env, port: env.port, stop: () => env.stop() };
    }],
    ['untrusted self-signed certificate', 'TLS-CERT-UNTRUSTED', async () => {
      const env = await envWithCert(await selfSignedServerCert(['mail.lab.example', 'autodiscover.lab.example']));
      return { env, port: env.port, stop: () => env.stop() };
    }],
    ['a proxy answering RPC_IN_DATA with 405', 'HTTP-RPC-METHOD-BLOCKED', async () => {
      const p = await fakeProxy('405');
      return { port: p.port, stop: p.stop };
    }],
    ['a proxy that buffers request bodies', 'HTTP-BODY-BUFFERED', async () => {
      const p = await fakeProxy('buffering');
      return { port: p.port, stop: p.stop };
    }],
    ['Autodiscover handing internal names to the outside', 'AD-INTERNAL-NAMES', async () => {
      const env = await labEnv({ config: (b) => ({ ...b, autodiscover: { rewrite: false } }) });
      return { env, port: env.port, stop: () => env.stop() };
    }],
    ['Basic not offered where it should be (ActiveSync)', 'AUTH-BASIC-MISSING', async () => {
      const env = await labEnv({ config: (b) => ({ ...b, edge: { offeredSchemes: { eas: ['NTLM'] } } }) });
      return { env, port: env.port, stop: () => env.stop(), over: { protocols: ['eas'] } };
    }],
    ['MAPI/HTTP disabled', 'MAPI-HTTP-DISABLED', async () => {
      const env = await labEnv({ config: (b) => ({ ...b, zones: { external: { blockedProtocols: ['unknown', 'ecp', 'powershell', 'mapi'] } } }) });
      return { env, port: env.port, stop: () => env.stop() };
    }],
    ['NTLM offered only through Negotiate', 'AUTH-NTLM-ONLY-IN-NEGOTIATE', async () => {
      const env = await labEnv({ lab: { auth: { ews: ['Negotiate', 'Basic'] } }, config: (b) => ({ ...b, policy: { ...(b.policy as object), stripNegotiate: [] } }) });
      return { env, port: env.port, stop: () => env.stop() };
    }],
    ['a gateway certificate different from Exchange\'s (Extended Protection)', 'TLS-CERT-DIFFERS-FROM-EXCHANGE', async () => {
      const env = await labEnv();
      return { env, port: env.port, stop: () => env.stop(), over: { upstream: env.lab.url } };
    }],
    ['a redirect to plain http://', 'HTTP-REDIRECT-INSECURE', async () => {
      const p = await cannedServer((head) => Buffer.from(/^GET \/ /.test(head) ? 'HTTP/1.1 302 Found\r\nLocation: http://mail.lab.example/owa/\r\nContent-Length: 0\r\n\r\n' : 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n'), { identity: 'gateway', waitForBody: false });
      return { port: p.port, stop: () => p.stop() };
    }],
    ['wrong password: reported, and tried only once', 'AUTH-CREDENTIALS-REJECTED', async () => {
      const env = await labEnv();
      return { env, port: env.port, stop: () => env.stop(), over: { password: 'wrong' } };
    }],
  ];

  for (const [name, id, setup] of scenarios) {
    it(`${name} -> ${id}`, async () => {
      const s = (await setup()) as Awaited<ReturnType<typeof setup>> & { zone?: boolean };
      try {
        if (s.zone) dns.setZone({ a: { 'mail.lab.example': ['127.0.0.1'] } });
        const pki = await testPki();
        if (!s.zone) dns.setZone(labZone(s.port));
        const report = await runDoctor(opts(s.port, { ca: pki.caFile, ...(s.over ?? {}) }));
        const ids = report.results.flatMap((r) => r.findings.map((f) => f.id));
        assert.ok(ids.includes(id), `expected ${id}, got ${ids.join(', ') || 'no finding'}`);
        assert.ok(report.exitCode >= 1);
        if (id === 'AUTH-CREDENTIALS-REJECTED') {
          const failed = s.env!.lab.state.log.filter((e) => e.claimedUser === 'LAB\\alice' && e.status === 401 && e.authorization === 'NTLM type 3');
          assert.equal(failed.length, 1, 'one failed login, then the doctor stops trying');
        }
      } finally {
        await s.stop();
      }
    });
  }
});


describe('portcullis doctor: causes named at the gateway (issue 16)', () => {
  it('NET-PORT-CLOSED names the port that was tried, not 443', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const { report } = await doctor({ port });
    const f = report.results.flatMap((r) => r.findings).find((x) => x.id === 'NET-PORT-CLOSED');
    assert.match(f?.detail ?? '', new RegExp(`TCP port ${port} on mail\\.lab\\.example \\(127\\.0\\.0\\.1\\): ECONNREFUSED`));
  });

  it('a policy denial by the gateway (ActiveSync for alice) is named with its reason, not EAS-FAILED', async () => {
    // A zone that conceals denials answers them like a wrong password (nobody learns who exists);
    // this one says 403 and why, which is what the doctor must read.
    const env = await labEnv({ config: (b) => ({ ...b, zones: { external: { concealDenials: false } } }) });
    try {
      const { ids, report } = await doctor(env, { protocols: ['autodiscover', 'eas'] });
      assert.ok(ids.includes('GATEWAY-POLICY-DENIED'), ids.join(', '));
      assert.ok(!ids.includes('EAS-FAILED'));
      const f = report.results.flatMap((r) => r.findings).find((x) => x.id === 'GATEWAY-POLICY-DENIED')!;
      assert.match(f.detail, /^ActiveSync: 403, reason not-in-group.*reference [0-9a-f]{12}/);
    } finally {
      await env.stop();
    }
  });

  it('without Autodiscover the RPC target is unknown (not an RPC proxy fault); --rpc-server tests it', async () => {
    const env = await labEnv();
    try {
      const without = await doctor(env, { protocols: ['rpc'] });
      assert.ok(without.ids.includes('RPC-TARGET-UNKNOWN'), without.ids.join(', '));
      assert.ok(!without.ids.includes('RPC-ECHO-FAILED') && !without.ids.includes('RPC-HANDSHAKE-FAILED'));
      const withServer = await doctor(env, { protocols: ['rpc'], rpcServer: RPC_TARGET.replace(/:6001$/, '') });
      assert.deepEqual(withServer.ids, []);
      assert.equal(withServer.report.results.find((r) => r.title.startsWith('RTS handshake'))!.status, 'pass');
      assert.equal(withServer.report.results.find((r) => r.group === 'Long-lived channels')!.status, 'pass');
    } finally {
      await env.stop();
    }
  });

  it('--long holds a MAPI NotificationWait until the server completes it (here after 1 s)', async () => {
    const env = await labEnv({ lab: { mapi: { pendingPeriodMs: 200, notificationWaitMs: 1000 } } });
    try {
      const { ids, report } = await doctor(env, { protocols: ['autodiscover', 'mapi'], long: true });
      assert.deepEqual(ids, []);
      const idle = report.results.find((r) => r.group === 'Long-lived channels')!;
      assert.match(idle.evidence.join('\n'), /MAPI NotificationWait: completed normally after 1\.\d s/);
    } finally {
      await env.stop();
    }
  });

  it('no autodiscover record: no endpoint in Outlook\'s order, although the published host answers', async () => {
    const env = await labEnv();
    try {
      const pki = await testPki();
      dns.setZone({ a: { 'mail.lab.example': ['127.0.0.1'] } });
      const report = await runDoctor(opts(env.port, { ca: pki.caFile, protocols: ['autodiscover'] }));
      const f = report.results.flatMap((r) => r.findings).find((x) => x.id === 'AD-NO-ENDPOINT');
      assert.match(f?.detail ?? '', /mail\.lab\.example answers Autodiscover, but Outlook does not try it/);
      assert.equal(report.results.find((r) => r.title.startsWith('endpoints'))!.status, 'fail');
    } finally {
      await env.stop();
    }
  });

  it('on a terminal each check shows once: progress is one overwritten line, then the report', () => {
    const bin = new URL('../bin/portcullis.js', import.meta.url).pathname;
    // script(1) gives the CLI a pseudo-terminal on stdout and stderr, as an admin's shell does.
    const r = spawnSync('script', ['-qec', `${process.execPath} ${bin} doctor https://127.0.0.1:9 --timeout 2000`, '/dev/null'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    // What the terminal shows: on each line, only what follows the last "carriage return + erase line".
    const shown = r.stdout.split(/\r?\n/).map((l) => l.split('\r\x1b[2K').at(-1)!);
    assert.equal(shown.filter((l) => /TCP connection to the published port/.test(l)).length, 1, shown.join('\n'));
    assert.ok(r.stdout.includes('\r\x1b[2K'), 'progress was shown');
  });

  it('--long and --rpc-server are accepted; --json prints only the report', () => {
    const bin = new URL('../bin/portcullis.js', import.meta.url).pathname;
    const r = spawnSync(process.execPath, [bin, 'doctor', 'https://127.0.0.1:9', '--long', '--rpc-server', RPC_TARGET.replace(/:6001$/, ''), '--json', '--timeout', '2000'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal((JSON.parse(r.stdout) as { exitCode: number }).exitCode, 2);
  });
});
