// The doctor against real intermediaries (Debian's nginx and HAProxy) in front of the gateway and
// the lab, configured the way admins misconfigure them, and against real certificate chains made
// by openssl. Each scenario must be named by its finding id, and must not be misnamed (the ids the
// doctor used to report for it are listed as "not"). scripts/test-interop.sh installs the packages.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { renderText } from '../../src/doctor/render.js';
import { runDoctor } from '../../src/doctor/run.js';
import type { DoctorOptions } from '../../src/doctor/types.js';
import { type DnsResponder, type Zone, labZone, startDnsResponder } from '../../src/lab/dns-responder.js';
import { type Env, type EnvOptions, RPC_TARGET, startEnv } from '../helpers/env.js';
import { type Intermediary, NGINX_GOOD, freePort, haproxyPem, startHaproxy, startNginx } from '../helpers/intermediaries.js';
import { type OpensslChain, makeChain } from '../helpers/openssl-pki.js';

let dns: DnsResponder;
let chain: OpensslChain;
before(async () => {
  dns = await startDnsResponder(labZone(0));
  chain = makeChain();
});
after(() => dns.stop());

/** The gateway and the lab, with MAPI keep-alives fast enough for a short test (PENDING every 300 ms). */
function gateway(o: EnvOptions = {}): Promise<Env> {
  return startEnv({ ...o, lab: { mapi: { pendingPeriodMs: 300, notificationWaitMs: 60_000 }, ...(o.lab ?? {}) } });
}

/** Autodiscover hands out the intermediary's name and port, as it would for the published host. */
async function publishAt(env: Env, port: number): Promise<void> {
  const w = parse(readFileSync(env.configFile, 'utf8')) as Record<string, unknown>;
  w['autodiscover'] = { namespaces: [{ internal: 'exch01.lab.local', external: `mail.lab.example:${port}` }], publishedNames: ['mail.lab.example'] };
  writeFileSync(env.configFile, stringify(w));
  assert.ok(await env.runtime.reload(), 'gateway reload');
}

interface Setup {
  readonly port: number;
  readonly over?: Partial<DoctorOptions>;
  readonly zone?: Zone;
  stop(): Promise<void>;
}

async function behindNginx(nginx: Partial<Parameters<typeof startNginx>[0]>, o: { env?: EnvOptions; chain?: OpensslChain; leafOnly?: boolean } = {}): Promise<Setup & { env: Env; px: Intermediary }> {
  const env = await gateway(o.env);
  const c = o.chain ?? chain;
  const px = await startNginx({ cert: o.leafOnly ? c.leafOnly : c.fullChain, key: c.leafKey, upstream: env.url, ...NGINX_GOOD, ...nginx }).catch(async (e: Error) => {
    await env.stop();
    throw e;
  });
  await publishAt(env, px.port);
  return { env, px, port: px.port, stop: async () => (await px.stop(), await env.stop()) };
}

async function behindHaproxy(hap: Partial<Parameters<typeof startHaproxy>[0]>, o: { env?: EnvOptions } = {}): Promise<Setup & { env: Env; px: Intermediary }> {
  const env = await gateway(o.env);
  const px = await startHaproxy({ pem: haproxyPem(chain.dir, chain.fullChain, chain.leafKey), upstream: env.url, ...hap }).catch(async (e: Error) => {
    await env.stop();
    throw e;
  });
  await publishAt(env, px.port);
  return { env, px, port: px.port, stop: async () => (await px.stop(), await env.stop()) };
}

async function doctor(s: Setup, over: Partial<DoctorOptions> = {}) {
  dns.setZone(s.zone ?? labZone(s.port));
  const report = await runDoctor({
    url: `https://mail.lab.example:${s.port}`,
    email: 'alice@lab.example',
    user: 'LAB\\alice',
    password: 'Passw0rd!',
    protocols: ['autodiscover', 'rpc', 'mapi', 'ews'],
    resolver: `127.0.0.1:${dns.port}`,
    timeoutMs: 3000,
    idleHoldMs: 1500,
    ca: chain.rootCrt,
    ...s.over,
    ...over,
  });
  const findings = report.results.flatMap((r) => r.findings);
  return { report, findings, ids: [...new Set(findings.map((f) => f.id))] };
}

const NO_CREDENTIALS: Partial<DoctorOptions> = { user: undefined, password: undefined, protocols: ['autodiscover'] } as Partial<DoctorOptions>;

describe('doctor with real intermediaries: healthy paths exit 0', () => {
  it('through HAProxy in http mode (NTLM-aware, long time-outs): no finding, exit 0', async () => {
    const s = await behindHaproxy({});
    try {
      const { report, ids } = await doctor(s);
      assert.deepEqual(ids, [], renderText(report));
      assert.equal(report.exitCode, 0);
      const idle = report.results.find((r) => r.group === 'Long-lived channels')!;
      assert.equal(idle.status, 'pass');
      assert.match(idle.evidence.join('\n'), /RPC_OUT_DATA channel: still open/);
      assert.match(idle.evidence.join('\n'), /MAPI NotificationWait: still open/);
    } finally {
      await s.stop();
    }
  });

  it('through a well-configured nginx, with the AIA, OCSP and CRL URLs published: no finding, exit 0', async () => {
    const web = await freePort();
    const c = makeChain({ urlBase: `http://127.0.0.1:${web}` });
    const s = await behindNginx({ http: `server { listen 127.0.0.1:${web}; root ${c.dir}; location /ocsp { return 400; } }` }, { chain: c });
    try {
      const { report, ids } = await doctor(s, { ca: c.rootCrt });
      assert.deepEqual(ids, []);
      assert.equal(report.exitCode, 0);
      assert.match(report.results.find((r) => r.title.startsWith('revocation'))!.evidence.join('\n'), /CRL .*answers/);
    } finally {
      await s.stop();
    }
  });
});

type Scenario = {
  readonly name: string;
  readonly expect: readonly string[];
  readonly not?: readonly string[];
  /** Text the finding's detail must contain (names the cause precisely). */
  readonly detail?: RegExp;
  setup(): Promise<Setup>;
  readonly over?: Partial<DoctorOptions>;
  check?(r: Awaited<ReturnType<typeof doctor>>): void;
};

const SCENARIOS: Scenario[] = [
  // --- the failure modes the issue lists ---
  {
    name: 'nginx proxy_read_timeout 2s cuts idle RPC channels and the MAPI NotificationWait',
    expect: ['PATH-IDLE-TIMEOUT'],
    detail: /nginx proxy_read_timeout/,
    setup: () => behindNginx({ server: 'client_max_body_size 0; large_client_header_buffers 4 64k; proxy_read_timeout 2s;' }, { env: { lab: { mapi: { pendingPeriodMs: 4000, notificationWaitMs: 60_000 } } } }),
    check: ({ findings }) => {
      const cut = findings.filter((f) => f.id === 'PATH-IDLE-TIMEOUT').map((f) => f.detail).join('\n');
      assert.match(cut, /RPC_(OUT|IN)_DATA channel cut after [1-4]\.\d s idle/);
      assert.match(cut, /MAPI NotificationWait cut after [1-4]\.\d s idle/);
    },
  },
  {
    name: 'HAProxy timeout server 2s cuts the idle channels',
    expect: ['PATH-IDLE-TIMEOUT'],
    detail: /HAProxy timeout server|proxy read time-out/,
    setup: () => behindHaproxy({ defaults: 'timeout connect 5s\n  timeout client 1h\n  timeout server 2s\n  timeout tunnel 2s' }),
    // hold longer than HAProxy's 2 s (the MAPI keep-alives come every 300 ms here, so only RPC is cut)
    over: { idleHoldMs: 4000 },
    check: ({ findings }) => assert.match(findings.filter((f) => f.id === 'PATH-IDLE-TIMEOUT').map((f) => f.detail).join('\n'), /RPC_(OUT|IN)_DATA channel cut after [1-4]\.\d s idle/),
  },
  {
    name: 'nginx sends only the leaf (intermediate missing), AIA published',
    expect: ['TLS-CHAIN-INCOMPLETE'],
    not: ['TLS-CERT-UNTRUSTED'],
    detail: /intermediate 'Doctor Test Issuing CA 1' missing: send leaf \+ intermediate \(1 certificate sent\); the AIA URL serves it/,
    setup: async () => {
      const web = await freePort();
      const c = makeChain({ urlBase: `http://127.0.0.1:${web}` });
      const s = await behindNginx({ http: `server { listen 127.0.0.1:${web}; root ${c.dir}; }` }, { chain: c, leafOnly: true });
      return { ...s, over: { ca: c.rootCrt } };
    },
    over: NO_CREDENTIALS,
  },
  {
    name: 'nginx sends only the leaf, no AIA URL in the certificate',
    expect: ['TLS-CHAIN-INCOMPLETE'],
    not: ['TLS-CERT-UNTRUSTED'],
    detail: /intermediate 'Doctor Test Issuing CA 1' missing/,
    setup: () => behindNginx({}, { leafOnly: true }),
    over: NO_CREDENTIALS,
  },
  {
    name: 'a full chain from a CA the client does not trust (the contrast: not a missing intermediate)',
    expect: ['TLS-CERT-UNTRUSTED'],
    not: ['TLS-CHAIN-INCOMPLETE'],
    setup: () => behindNginx({}),
    over: { ...NO_CREDENTIALS, ca: undefined } as Partial<DoctorOptions>,
  },
  {
    name: 'Autodiscover 302 to itself (loop); the RPC checks say the target is unknown instead of blaming the RPC proxy',
    expect: ['AD-REDIRECT-LOOP', 'RPC-TARGET-UNKNOWN'],
    not: ['RPC-ECHO-FAILED', 'AD-NO-ENDPOINT'],
    detail: /autodiscover\.xml -> https:\/\/mail\.lab\.example:\d+\/autodiscover\/autodiscover\.xml \(loop\)/,
    setup: () => behindNginx({ server: `${NGINX_GOOD.server} location = /autodiscover/autodiscover.xml { return 302 https://$http_host/autodiscover/autodiscover.xml; }` }),
  },
  {
    name: 'the same loop with --rpc-server: the Outlook Anywhere checks run and pass',
    expect: ['AD-REDIRECT-LOOP'],
    not: ['RPC-TARGET-UNKNOWN', 'RPC-ECHO-FAILED', 'RPC-HANDSHAKE-FAILED'],
    setup: () => behindNginx({ server: `${NGINX_GOOD.server} location = /autodiscover/autodiscover.xml { return 302 https://$http_host/autodiscover/autodiscover.xml; }` }),
    over: { rpcServer: RPC_TARGET.replace(/:6001$/, ''), protocols: ['autodiscover', 'rpc'] },
    check: ({ report }) => assert.equal(report.results.find((r) => r.title.startsWith('RTS handshake'))!.status, 'pass'),
  },
  {
    name: 'Autodiscover redirected to a login page',
    expect: ['AD-REDIRECT-WRONG'],
    detail: /\/owa\/auth\/logon\.aspx is not an Autodiscover URL \(it answers with an HTML page\)/,
    setup: () =>
      behindNginx({
        server: `${NGINX_GOOD.server} location = /autodiscover/autodiscover.xml { return 302 https://$http_host/owa/auth/logon.aspx; } location = /owa/auth/logon.aspx { default_type text/html; return 200 '<html><form method="post"><input name="password" type="password"></form></html>'; }`,
      }),
    over: NO_CREDENTIALS,
  },
  {
    name: 'HAProxy option httpclose ends the connection after the NTLM challenge',
    expect: ['AUTH-NTLM-CONNECTION-CLOSED'],
    not: ['AUTH-CREDENTIALS-REJECTED', 'RPC-ECHO-FAILED'],
    setup: () => behindHaproxy({ defaults: 'timeout connect 5s\n  timeout client 1h\n  timeout server 1h\n  option httpclose' }),
    check: ({ report }) => {
      // One finding, and the credentialed checks skip with a pointer instead of "connection closed" three times.
      assert.equal(report.results.flatMap((r) => r.findings).filter((f) => f.id === 'AUTH-NTLM-CONNECTION-CLOSED').length, 1);
      assert.ok(report.results.every((r) => !r.evidence.some((e) => /connection closed/.test(e))));
    },
  },
  {
    name: 'nginx offering only TLS 1.0',
    expect: ['TLS-OLD-ONLY'],
    not: ['TLS-HANDSHAKE-FAILED'],
    detail: /offered: TLSv1; not offered: TLSv1\.2, TLSv1\.3/,
    setup: () => behindNginx({ tls: 'ssl_protocols TLSv1; ssl_ciphers DEFAULT@SECLEVEL=0;' }),
    over: NO_CREDENTIALS,
    check: ({ report }) => {
      // The later HTTP checks skip with one pointer; no raw OpenSSL line is repeated.
      const text = report.results.flatMap((r) => r.evidence).join('\n');
      assert.doesNotMatch(text, /deps\/openssl|SSL routines/);
      assert.ok(report.results.filter((r) => r.status === 'skip' && /offers no TLS 1\.2 or 1\.3/.test(r.evidence.join(''))).length >= 3);
    },
  },
  {
    name: 'a trusted certificate for another name',
    expect: ['TLS-NAME-MISMATCH'],
    not: ['TLS-CERT-UNTRUSTED', 'AD-INTERNAL-NAMES', 'TLS-SAN-MISSING'],
    setup: async () => {
      const c = makeChain({ names: ['www.lab.example'] });
      const s = await behindNginx({}, { chain: c });
      return { ...s, over: { ca: c.rootCrt } };
    },
  },
  {
    name: 'no autodiscover record: the published host answers, but Outlook never tries it',
    expect: ['AD-NO-ENDPOINT', 'DNS-AUTODISCOVER-MISSING'],
    detail: /mail\.lab\.example answers Autodiscover, but Outlook does not try it/,
    setup: async () => ({ ...(await behindNginx({})), zone: { a: { 'mail.lab.example': ['127.0.0.1'] } } }),
    over: NO_CREDENTIALS,
  },
  {
    name: 'ActiveSync refused by the gateway\'s policy (alice is not in Mobile-Only)',
    expect: ['GATEWAY-POLICY-DENIED'],
    not: ['EAS-FAILED'],
    detail: /ActiveSync: 403, reason not-in-group/,
    // A zone that conceals denials answers them like a wrong password (so that nobody learns who
    // exists); this one answers 403 and why, which is what the doctor must read.
    setup: () => behindNginx({}, { env: { config: (b) => ({ ...b, zones: { external: { concealDenials: false } } }) } }),
    over: { protocols: ['eas'] },
  },
  // --- more failure modes admins hit ---
  {
    name: 'nginx sends an expired intermediate',
    expect: ['TLS-INTERMEDIATE-EXPIRED'],
    not: ['TLS-CERT-EXPIRED', 'TLS-CERT-UNTRUSTED'],
    detail: /'Doctor Test Issuing CA 1' expired/,
    setup: async () => {
      const c = makeChain({ expiredIntermediate: true });
      const s = await behindNginx({}, { chain: c });
      return { ...s, over: { ca: c.rootCrt } };
    },
    over: NO_CREDENTIALS,
  },
  {
    name: 'OCSP and CRL URLs that do not answer',
    expect: ['TLS-REVOCATION-UNREACHABLE'],
    detail: /CRL http:\/\/127\.0\.0\.1:\d+\/int\.crl \(ECONNREFUSED\)/,
    setup: async () => {
      const c = makeChain({ urlBase: `http://127.0.0.1:${await freePort()}` });
      const s = await behindNginx({}, { chain: c });
      return { ...s, over: { ca: c.rootCrt } };
    },
    over: NO_CREDENTIALS,
  },
  {
    name: 'HAProxy forcing HTTP/2 (proto h2)',
    expect: ['HTTP-H2-ONLY'],
    setup: () => behindHaproxy({ bind: 'alpn h2 proto h2' }),
    over: NO_CREDENTIALS,
  },
  {
    name: 'the SRV record points at the wrong port',
    expect: ['AD-SRV-TARGET-UNREACHABLE'],
    detail: /points at mail\.lab\.example:\d+, which does not answer \(ECONNREFUSED\); mail\.lab\.example is published on port \d+/,
    setup: async () => {
      const s = await behindNginx({});
      const wrong = await freePort();
      return { ...s, zone: { a: { 'mail.lab.example': ['127.0.0.1'] }, srv: { '_autodiscover._tcp.lab.example': [{ priority: 0, weight: 0, port: wrong, target: 'mail.lab.example' }] } } };
    },
    over: NO_CREDENTIALS,
  },
  {
    name: 'a login portal answering Autodiscover with an HTML form',
    expect: ['AD-HTML-ANSWER'],
    detail: /with an HTML page \(a login form\)/,
    setup: () => behindNginx({ server: `${NGINX_GOOD.server} location /autodiscover/ { default_type text/html; return 200 '<!DOCTYPE html><html><body><form>Sign in <input type="password"></form></body></html>'; }` }),
    over: NO_CREDENTIALS,
  },
  {
    name: 'a server clock an hour behind (HAProxy rewrites Date)',
    expect: ['TIME-SKEW'],
    detail: /clock is 3[56]\d\d s behind/,
    setup: () => behindHaproxy({ frontend: 'http-response set-header Date %[date(-3600),http_date]' }),
    over: NO_CREDENTIALS,
  },
  {
    name: 'nginx without upstream keep-alive: NTLM fails, Basic works (not a wrong password)',
    expect: ['AUTH-NTLM-AFFINITY-LOST'],
    not: ['AUTH-CREDENTIALS-REJECTED'],
    setup: () => behindNginx({ location: 'proxy_request_buffering off; proxy_buffering off;', upstreamBlock: '' }),
    over: { protocols: ['autodiscover', 'ews'] },
  },
  {
    name: 'nginx with its default client_max_body_size (1m)',
    expect: ['HTTP-BODY-TOO-LARGE'],
    setup: () => behindNginx({ server: 'large_client_header_buffers 4 64k;' }),
    over: NO_CREDENTIALS,
  },
  {
    name: 'nginx buffering request bodies (proxy_request_buffering on, the default)',
    expect: ['HTTP-BODY-BUFFERED'],
    setup: () => behindNginx({ location: 'proxy_http_version 1.1; proxy_set_header Connection "";' }),
    over: NO_CREDENTIALS,
  },
  {
    name: 'nginx with its default header buffers (8k)',
    expect: ['HTTP-HEADER-LIMIT-LOW'],
    setup: () => behindNginx({ server: 'client_max_body_size 0; proxy_read_timeout 3600s;' }),
    over: NO_CREDENTIALS,
  },
  {
    name: 'HAProxy with its default 16 KB buffer (tune.bufsize)',
    expect: ['HTTP-HEADER-LIMIT-LOW'],
    setup: () => behindHaproxy({ global: '' }),
    over: NO_CREDENTIALS,
  },
  {
    name: 'nginx offering only TLS 1.3',
    expect: ['TLS-12-MISSING'],
    not: ['TLS-OLD-ONLY'],
    setup: () => behindNginx({ tls: 'ssl_protocols TLSv1.3;' }),
    over: NO_CREDENTIALS,
  },
];

describe('doctor with real intermediaries: each fault named by its cause', () => {
  for (const sc of SCENARIOS) {
    it(`${sc.name} -> ${sc.expect.join(', ')}`, async () => {
      const s = await sc.setup();
      try {
        // The body checks belong to Outlook Anywhere: they run only when rpc is tested.
        const over = { ...(s.over ?? {}), ...(sc.over ?? {}), ...(sc.expect.some((id) => id.startsWith('HTTP-BODY')) ? { protocols: ['rpc'] } : {}) };
        const r = await doctor(s, over);
        // On a failure, print what the doctor said: the report is the best evidence of what went wrong.
        try {
          check(sc, r);
        } catch (e) {
          console.log(renderText(r.report));
          throw e;
        }
      } finally {
        await s.stop();
      }
    });
  }
});

function check(sc: Scenario, r: Awaited<ReturnType<typeof doctor>>): void {
  for (const id of sc.expect) assert.ok(r.ids.includes(id), `expected ${id}, got ${r.ids.join(', ') || 'no finding'}`);
  for (const id of sc.not ?? []) assert.ok(!r.ids.includes(id), `${id} must not be reported; got ${r.ids.join(', ')}`);
  if (sc.detail) {
    const details = r.findings.filter((f) => sc.expect.includes(f.id)).map((f) => f.detail).join('\n');
    assert.match(details, sc.detail);
  }
  assert.ok(r.report.exitCode >= 1);
  sc.check?.(r);
}
