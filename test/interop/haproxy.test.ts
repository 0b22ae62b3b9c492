// Issue #13: the real client address through HAProxy (Debian's) as a layer-4 load balancer in front
// of the gateway, sending PROXY protocol v2 (with TLVs) and v1. The client connects from
// 127.0.0.3 and HAProxy from 127.0.0.1 (its `source`), so the gateway can only know 127.0.0.3 from
// the header. An HAProxy backend leaving from 127.0.0.5, which is not in proxySources, is refused.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { adminHeaders, type Env, RPC_TARGET, startEnv, testPki } from '../helpers/env.js';

const run = promisify(execFile);
const CLIENT = '127.0.0.3';
const basic = `Basic ${Buffer.from('LAB\\alice:Passw0rd!').toString('base64')}`;

async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** TLS through HAProxy from `from`; one request; the socket is left open for the connection view. */
async function request(host: string, port: number, from: string | undefined, target: string): Promise<{ status: number; head: string; socket: tls.TLSSocket }> {
  const socket = tls.connect({ host, port, ...(from ? { localAddress: from } : {}), servername: 'mail.lab.example', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  socket.write(`GET ${target} HTTP/1.1\r\nHost: mail.lab.example\r\nAuthorization: ${basic}\r\n\r\n`);
  const head = await new Promise<string>((resolve, reject) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (text.includes('\r\n\r\n')) resolve(text);
    });
    socket.once('close', () => reject(new Error(`closed; got ${JSON.stringify(text.slice(0, 80))}`)));
    socket.once('error', reject);
  });
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, socket };
}

describe('interop: HAProxy sending the PROXY protocol', () => {
  let env: Env;
  let haproxy: ChildProcess;
  const ports = { v2: 0, v1: 0, untrusted: 0, v6: 0 };
  let stderr = '';

  before(async () => {
    const pki = await testPki();
    env = await startEnv({
      config: (b) => ({
        ...b,
        listeners: (b['listeners'] as Array<Record<string, unknown>>).map((l) => ({
          ...l,
          proxyProtocol: true,
          proxySources: ['127.0.0.1/32', '::1/128'],
          // The client's own address puts it in the internal zone: only the header can tell.
          clientZones: [{ cidr: `${CLIENT}/32`, zone: 'internal' }],
        })),
      }),
    });
    for (const k of ['v2', 'v1', 'untrusted'] as const) ports[k] = await freePort();
    ports.v6 = await freePort('::1');
    const dir = mkdtempSync(path.join(pki.dir, 'haproxy-'));
    const cfg = path.join(dir, 'haproxy.cfg');
    const gw = `127.0.0.1:${env.port}`;
    writeFileSync(
      cfg,
      `global
  maxconn 200
defaults
  mode tcp
  timeout connect 3s
  timeout client 30s
  timeout server 30s
frontend fe_v2
  bind 127.0.0.1:${ports.v2}
  unique-id-format %{+X}o%ci:%cp_%fi:%fp_%Ts_%rt
  default_backend be_v2
backend be_v2
  server gw ${gw} send-proxy-v2 proxy-v2-options unique-id,crc32c source 127.0.0.1
frontend fe_v1
  bind 127.0.0.1:${ports.v1}
  default_backend be_v1
backend be_v1
  server gw ${gw} send-proxy source 127.0.0.1
frontend fe_untrusted
  bind 127.0.0.1:${ports.untrusted}
  default_backend be_untrusted
backend be_untrusted
  server gw ${gw} send-proxy-v2 source 127.0.0.5
frontend fe_v6
  bind [::1]:${ports.v6}
  default_backend be_v6
backend be_v6
  server gw ${gw} send-proxy-v2 source 127.0.0.1
`,
    );
    await run('haproxy', ['-c', '-f', cfg]);
    haproxy = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    haproxy.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // HAProxy is ready when its frontends accept.
    const t0 = Date.now();
    for (;;) {
      const ok = await new Promise<boolean>((r) => net.connect(ports.v6, '::1').once('connect', function (this: net.Socket) {
        this.destroy();
        r(true);
      }).once('error', () => r(false)));
      if (ok) break;
      if (Date.now() - t0 > 10_000) throw new Error(`haproxy did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    haproxy?.kill('SIGTERM');
    await env?.stop();
  });

  const views = async () => (await (await fetch(`${env.runtime.admin!.url}/api/connections`, { headers: adminHeaders(env) })).json()) as Array<{ client: string; zone: string; user?: string }>;

  it('send-proxy-v2 (with unique-id and crc32c TLVs): the client is 127.0.0.3, in its own zone, in the connection view', async () => {
    const r = await request('127.0.0.1', ports.v2, CLIENT, '/ecp/');
    assert.equal(r.status, 200, 'ECP is open: the client is in the internal zone by its real address');
    const v = (await views()).find((c) => c.client === CLIENT);
    assert.ok(v, `connection view: ${JSON.stringify(await views())}`);
    assert.equal(v.zone, 'internal');
    r.socket.destroy();
  });

  it('send-proxy (v1): same client address', async () => {
    const r = await request('127.0.0.1', ports.v1, CLIENT, '/owa/');
    assert.equal(r.status, 200);
    assert.ok((await views()).some((c) => c.client === CLIENT && c.zone === 'internal'));
    r.socket.destroy();
  });

  it('a client of another address through the same HAProxy is in the listener\'s zone (external: ECP refused)', async () => {
    const r = await request('127.0.0.1', ports.v2, '127.0.0.4', '/ecp/');
    assert.equal(r.status, 403);
    assert.match(r.head, /\r\nX-Portcullis-Reason: protocol-blocked-in-zone\r\n/i);
    r.socket.destroy();
  });

  it('an IPv6 client (v2 TCP6 header)', async () => {
    const r = await request('::1', ports.v6, undefined, '/owa/');
    assert.equal(r.status, 200);
    assert.ok((await views()).some((c) => c.client === '::1'), JSON.stringify(await views()));
    r.socket.destroy();
  });

  it('HAProxy connecting from an address outside proxySources is refused', async () => {
    const before = env.gateway.stats().connections.ended['proxy-untrusted'];
    await assert.rejects(request('127.0.0.1', ports.untrusted, CLIENT, '/owa/'));
    assert.equal(env.gateway.stats().connections.ended['proxy-untrusted'], before + 1);
  });

  it('impacket (RPC over HTTP, NTLM) works through HAProxy send-proxy-v2', async () => {
    const { stdout } = await run('/usr/bin/python3', [new URL('./clients/impacket_rpch.py', import.meta.url).pathname, '--url', `https://127.0.0.1:${ports.v2}/rpc/rpcproxy.dll?${RPC_TARGET}`, '--user', 'alice', '--password', 'Passw0rd!'], {
      env: { ...process.env, PYTHONWARNINGS: 'ignore', REQUESTS_CA_BUNDLE: '' },
      timeout: 60_000,
    });
    assert.match(stdout, /^OK entries=0/m);
  });
});
