// The doctor against the lab and the gateway, healthy and with one fault at a time; each fault
// must be named by its id. DNS comes from the lab responder on loopback (--resolver).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runDoctor } from '../src/doctor/run.js';
import type { DoctorOptions } from '../src/doctor/types.js';
import { issueServerCert, selfSignedServerCert } from '../src/lab/certs.js';
import { type DnsResponder, labZone, startDnsResponder } from '../src/lab/dns-responder.js';
import { type Env, startEnv, testPki } from './helpers/env.js';
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
  return startEnv({ config: (b) => ({ ...b, listeners: [{ ...(b.listeners as Array<Record<string, unknown>>)[0], tls: { certificates: [{ cert: path.join(dir, 'c.crt'), key: path.join(dir, 'c.key') }] } }] }) });
}

describe('portcullis doctor', () => {
  it('passes a healthy setup (exit 0, no finding)', async () => {
    const env = await startEnv();
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
      const env = await startEnv();
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
      const env = await startEnv({ config: (b) => ({ ...b, autodiscover: { rewrite: false } }) });
      return { env, port: env.port, stop: () => env.stop() };
    }],
    ['Basic not offered where it should be (ActiveSync)', 'AUTH-BASIC-MISSING', async () => {
      const env = await startEnv({ config: (b) => ({ ...b, edge: { offeredSchemes: { eas: ['NTLM'] } } }) });
      return { env, port: env.port, stop: () => env.stop(), over: { protocols: ['eas'] } };
    }],
    ['MAPI/HTTP disabled', 'MAPI-HTTP-DISABLED', async () => {
      const env = await startEnv({ config: (b) => ({ ...b, zones: { external: { blockedProtocols: ['unknown', 'ecp', 'powershell', 'mapi'] } } }) });
      return { env, port: env.port, stop: () => env.stop() };
    }],
    ['NTLM offered only through Negotiate', 'AUTH-NTLM-ONLY-IN-NEGOTIATE', async () => {
      const env = await startEnv({ lab: { auth: { ews: ['Negotiate', 'Basic'] } }, config: (b) => ({ ...b, policy: { ...(b.policy as object), stripNegotiate: [] } }) });
      return { env, port: env.port, stop: () => env.stop() };
    }],
    ['a gateway certificate different from Exchange\'s (Extended Protection)', 'TLS-CERT-DIFFERS-FROM-EXCHANGE', async () => {
      const env = await startEnv();
      return { env, port: env.port, stop: () => env.stop(), over: { upstream: env.lab.url } };
    }],
    ['a redirect to plain http://', 'HTTP-REDIRECT-INSECURE', async () => {
      const p = await cannedServer((head) => Buffer.from(/^GET \/ /.test(head) ? 'HTTP/1.1 302 Found\r\nLocation: http://mail.lab.example/owa/\r\nContent-Length: 0\r\n\r\n' : 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n'), { identity: 'gateway', waitForBody: false });
      return { port: p.port, stop: () => p.stop() };
    }],
    ['wrong password: reported, and tried only once', 'AUTH-CREDENTIALS-REJECTED', async () => {
      const env = await startEnv();
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

