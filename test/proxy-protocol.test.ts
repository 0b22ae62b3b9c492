// Issue #13: the real client address through a layer-4 load balancer (PROXY protocol v1 and v2)
// and through trusted HTTP proxies (X-Forwarded-For), on real sockets. The load balancer is played
// by raw sockets here (test/interop/haproxy.test.ts uses HAProxy itself), so every malformed,
// slow or spoofed shape can be sent.
import assert from 'node:assert/strict';
import net from 'node:net';
import { duplexPair } from 'node:stream';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { subscribeLog } from '../src/audit/log-subscriber.js';
import { PROXY_V2_SIGNATURE } from '../src/listen/proxy-header.js';
import { type ListenerEnv, startListenerEnv, waitFor } from './helpers/listener-env.js';

// The load balancer is 127.0.0.1; 127.0.0.2 plays a host on the same network that is not one.
const LB = '127.0.0.1';
const STRANGER = '127.0.0.2';

function v2(cmd: number, fam: number, body: Buffer, declared = body.length): Buffer {
  return Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([cmd, fam, declared >> 8, declared & 0xff]), body]);
}
function v2tcp4(src: string, sport: number, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src.split('.').map(Number)).copy(b, 0);
  Buffer.from([127, 0, 0, 1]).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(443, 10);
  return v2(0x21, 0x11, Buffer.concat([b, tlvs]));
}
function v2tcp6(srcHex: string, sport: number): Buffer {
  const b = Buffer.alloc(36);
  Buffer.from(srcHex, 'hex').copy(b, 0);
  b[31] = 1; // destination ::1
  b.writeUInt16BE(sport, 32);
  b.writeUInt16BE(443, 34);
  return v2(0x21, 0x21, b);
}

/** A TCP connection from `from`, already connected. */
function tcp(port: number, from = LB): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from }, () => resolve(s));
    s.once('error', reject);
  });
}

/** How a raw socket ends: 'reset', 'closed' (FIN), or still 'open' after `ms`. */
function ending(s: net.Socket, ms = 3_000): Promise<'reset' | 'closed' | 'open'> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve('open'), ms);
    s.on('data', () => {});
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve(e.code === 'ECONNRESET' ? 'reset' : 'closed');
    });
    s.once('close', () => {
      clearTimeout(t);
      resolve('closed');
    });
  });
}

/** Sends `header`, then TLS and one request; resolves with the status line and the whole answer. */
async function through(port: number, header: Buffer | string, o: { from?: string; request?: string; oneSegment?: boolean } = {}): Promise<string> {
  const raw = await tcp(port, o.from);
  let s: tls.TLSSocket;
  if (o.oneSegment) {
    // The header and the ClientHello in one write, as a proxy may send them: the TLS client runs
    // over an in-memory pair, and its first bytes go out glued to the header.
    const [near, far] = duplexPair();
    s = tls.connect({ socket: near, servername: 'mail.lab.example', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    let first = true;
    far.on('data', (d: Buffer) => {
      raw.write(first ? Buffer.concat([Buffer.from(header), d]) : d);
      first = false;
    });
    raw.on('data', (d: Buffer) => far.write(d));
    raw.on('close', () => s.destroy(new Error('the gateway closed the connection')));
  } else {
    raw.write(header);
    s = tls.connect({ socket: raw, servername: 'mail.lab.example', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  }
  await new Promise<void>((resolve, reject) => {
    s.once('secureConnect', resolve);
    s.once('error', reject);
  });
  s.write(o.request ?? 'GET /owa/ HTTP/1.1\r\nHost: mail.lab.example\r\n\r\n');
  let text = '';
  await new Promise<void>((resolve) => {
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (/\r\n\r\n/.test(text) && /content-length: (\d+)/i.test(text)) {
        const n = Number(/content-length: (\d+)/i.exec(text)![1]);
        if (text.length >= text.indexOf('\r\n\r\n') + 4 + n) resolve();
      }
    });
    s.once('close', () => resolve());
    s.once('error', () => resolve());
  });
  s.destroy();
  return text;
}

describe('PROXY protocol listener', () => {
  let env: ListenerEnv;
  // The request log lines, as `portcullis serve` writes them (a subscriber of the events seam).
  const requestLines: Array<Record<string, unknown>> = [];
  const unsubscribe = subscribeLog(pino({ level: 'info' }, { write: (s: string) => void requestLines.push(JSON.parse(s) as Record<string, unknown>) }));
  const ended = (cause: string) => env.gateway.stats().connections.ended[cause as 'proxy-invalid'];
  const clientsSeen = () => requestLines.filter((l) => l['msg'] === 'request').map((l) => l['client']);

  before(async () => {
    env = await startListenerEnv({
      listener: {
        zone: 'external',
        proxyProtocol: true,
        proxySources: [`${LB}/32`],
        proxyHeaderTimeout: '600ms',
        clientZones: [{ cidr: '198.51.100.0/24', zone: 'internal' }],
      },
      connections: { perSource: 3, handshakeTimeout: '5s' },
    });
  });
  after(async () => {
    unsubscribe();
    await env.stop();
  });

  it('v2 from the load balancer: the client is the header\'s, in logs, zones and connection views', async () => {
    const res = await through(env.port, v2tcp4('203.0.113.7', 51000));
    assert.match(res, /^HTTP\/1\.1 200/);
    assert.ok(await waitFor(() => clientsSeen().includes('203.0.113.7'), 2_000), `request log client: ${clientsSeen().join(',')}`);
    assert.match(env.upstream.seen.at(-1)!, /\r\nX-Forwarded-For: 203\.0\.113\.7(\r\n|$)/i, 'Exchange hears the real client');
    // The zone follows the real client: ECP is blocked from outside, open from the internal range.
    assert.match(await through(env.port, v2tcp4('203.0.113.7', 51001), { request: 'GET /ecp/ HTTP/1.1\r\nHost: x\r\n\r\n' }), /^HTTP\/1\.1 403[^]*protocol-blocked-in-zone/);
    assert.match(await through(env.port, v2tcp4('198.51.100.9', 51002), { request: 'GET /ecp/ HTTP/1.1\r\nHost: x\r\n\r\n' }), /^HTTP\/1\.1 200/);
  });

  it('the header and the ClientHello in one segment: TLS gets every byte after the header', async () => {
    assert.match(await through(env.port, v2tcp4('203.0.113.10', 1), { oneSegment: true }), /^HTTP\/1\.1 200/);
    assert.match(await through(env.port, 'PROXY TCP4 203.0.113.11 192.0.2.1 1 443\r\n', { oneSegment: true }), /^HTTP\/1\.1 200/);
  });

  it('v1 TCP4 and TCP6, and v2 TCP6 and v2 with TLVs', async () => {
    assert.match(await through(env.port, 'PROXY TCP4 192.0.2.44 192.0.2.1 40000 443\r\n'), /^HTTP\/1\.1 200/);
    assert.match(await through(env.port, 'PROXY TCP6 2001:db8::44 2001:db8::1 40000 443\r\n'), /^HTTP\/1\.1 200/);
    assert.match(await through(env.port, v2tcp6('20010db8000000000000000000000045', 40001)), /^HTTP\/1\.1 200/);
    const tlvs = Buffer.concat([Buffer.from([0x05, 0x00, 0x05]), Buffer.from('id-42'), Buffer.from([0x02, 0x00, 0x10]), Buffer.from('mail.lab.example')]);
    assert.match(await through(env.port, v2tcp4('192.0.2.45', 40002, tlvs)), /^HTTP\/1\.1 200/);
    assert.ok(await waitFor(() => ['192.0.2.44', '2001:db8::44', '2001:db8::45', '192.0.2.45'].every((c) => clientsSeen().includes(c)), 2_000), clientsSeen().join(','));
  });

  it('LOCAL (the balancer\'s health check) is served as the balancer itself', async () => {
    assert.match(await through(env.port, v2(0x20, 0x00, Buffer.alloc(0))), /^HTTP\/1\.1 200/);
    assert.match(await through(env.port, 'PROXY UNKNOWN\r\n'), /^HTTP\/1\.1 200/);
  });

  it('a header from a host that is not a load balancer is refused, however valid', async () => {
    const before = ended('proxy-untrusted');
    // Reset at accept: the reset may already meet the connect.
    const how = await tcp(env.port, STRANGER).then(
      (s) => {
        s.write(v2tcp4('198.51.100.9', 1234)); // claims the internal range
        return ending(s);
      },
      (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? 'reset' : e.code),
    );
    assert.equal(how, 'reset');
    assert.ok(await waitFor(() => ended('proxy-untrusted') === before + 1, 1_000));
  });

  it('a connection from the load balancer without a header (TLS straight away) is refused', async () => {
    const before = ended('proxy-invalid');
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: env.port, rejectUnauthorized: false }, () => resolve(s));
        s.once('error', reject);
      }),
    );
    assert.ok(await waitFor(() => ended('proxy-invalid') === before + 1, 1_000));
  });

  const refused: Array<[string, Buffer | string]> = [
    ['garbage', Buffer.from('\x00\xff garbage\r\n')],
    ['an HTTP request', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['v1 with a forged address format', 'PROXY TCP4 999.1.1.1 127.0.0.1 1 443\r\n'],
    ['v1 line over 107 bytes', `PROXY UNKNOWN ${'x'.repeat(120)}`],
    ['v2 PROXY over AF_UNSPEC (a client without an address)', v2(0x21, 0x00, Buffer.alloc(0))],
    ['v2 PROXY over AF_UNIX', v2(0x21, 0x31, Buffer.alloc(216, 0x2f))],
    ['v2 PROXY over UDP', v2(0x21, 0x12, Buffer.alloc(12))],
    ['v2 declaring 65,535 bytes', v2(0x21, 0x11, Buffer.alloc(12), 65535)],
    ['v2 with a TLV running past the header', v2(0x21, 0x11, Buffer.concat([Buffer.alloc(12), Buffer.from([0x05, 0x00, 0x40, 0x41])]))],
  ];
  for (const [name, bytes] of refused) {
    it(`refuses ${name} at once`, async () => {
      const before = ended('proxy-invalid');
      const t0 = Date.now();
      const s = await tcp(env.port);
      s.write(bytes);
      assert.equal(await ending(s), 'reset');
      assert.ok(Date.now() - t0 < 500, 'refused without waiting for the time-out');
      assert.ok(await waitFor(() => ended('proxy-invalid') === before + 1, 1_000));
    });
  }

  it('slowloris on the header: one byte every 100 ms is cut at proxyHeaderTimeout', async () => {
    const before = ended('proxy-timeout');
    const s = await tcp(env.port);
    const header = v2tcp4('203.0.113.9', 1);
    let i = 0;
    const drip = setInterval(() => (i < header.length && !s.destroyed ? s.write(header.subarray(i, ++i)) : undefined), 100);
    const t0 = Date.now();
    const how = await ending(s, 3_000);
    clearInterval(drip);
    const ms = Date.now() - t0;
    assert.equal(how, 'reset');
    assert.ok(ms >= 550 && ms < 1_500, `cut after ${ms} ms`);
    assert.ok(await waitFor(() => ended('proxy-timeout') === before + 1, 1_000));
  });

  it('a silent connection is cut at proxyHeaderTimeout', async () => {
    const s = await tcp(env.port);
    const t0 = Date.now();
    assert.equal(await ending(s, 3_000), 'reset');
    assert.ok(Date.now() - t0 < 1_500);
  });

  it('the per-source limit counts the real client, not the load balancer', async () => {
    const held: net.Socket[] = [];
    // Three connections of one client (perSource 3) held before their TLS handshake...
    for (let i = 0; i < 3; i++) {
      const s = await tcp(env.port);
      s.write(v2tcp4('203.0.113.77', 1000 + i));
      held.push(s);
    }
    await new Promise((r) => setTimeout(r, 100));
    // ...a fourth of the same client is refused, another client through the same balancer is served.
    const fourth = await tcp(env.port);
    fourth.write(v2tcp4('203.0.113.77', 1003));
    assert.equal(await ending(fourth), 'reset');
    assert.match(await through(env.port, v2tcp4('203.0.113.78', 1)), /^HTTP\/1\.1 200/);
    for (const s of held) s.destroy();
  });

  it('X-Forwarded-For is not believed on a PROXY listener without forwardedFor', async () => {
    await through(env.port, v2tcp4('203.0.113.7', 52000), { request: 'GET /owa/ HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n' });
    assert.match(env.upstream.seen.at(-1)!, /\r\nX-Forwarded-For: 203\.0\.113\.7(\r\n|$)/i);
  });
});

describe('trusted X-Forwarded-For', () => {
  let env: ListenerEnv;
  const get = (xff: string[], from = LB, extra = '') =>
    through(env.port, Buffer.alloc(0), { from, request: `GET /ecp/ HTTP/1.1\r\nHost: x\r\n${xff.map((v) => `X-Forwarded-For: ${v}\r\n`).join('')}${extra}\r\n` });

  before(async () => {
    env = await startListenerEnv({
      listener: {
        zone: 'external',
        forwardedFor: { trustedProxies: [`${LB}/32`, '10.0.0.0/8'] },
        clientZones: [{ cidr: '198.51.100.0/24', zone: 'internal' }, { cidr: '127.0.0.0/8', zone: 'internal' }],
      },
    });
  });
  after(() => env.stop());

  it('the right-most address that is not a trusted proxy is the client', async () => {
    // The client wrote "198.51.100.1" itself (internal range); the proxies appended the rest.
    assert.match(await get(['198.51.100.1, 203.0.113.7, 10.1.2.3']), /^HTTP\/1\.1 403[^]*protocol-blocked-in-zone/);
    assert.match(await get(['198.51.100.1', '203.0.113.7', '10.1.2.3']), /^HTTP\/1\.1 403/, 'several fields are one list');
    assert.match(await get(['203.0.113.7, 198.51.100.1']), /^HTTP\/1\.1 200/, 'an internal client behind the proxy gets its zone');
    assert.match(await get(['[2001:db8::7]:4711, 10.0.0.1']), /^HTTP\/1\.1 403/);
    assert.match(await get(['10.0.0.9, 10.0.0.1']), /^HTTP\/1\.1 403/, 'all hops trusted: the left-most (10.0.0.9, external by zone rules)');
  });

  it('from a peer that is not a trusted proxy the header is ignored', async () => {
    // 127.0.0.2 is internal by clientZones and not a trusted proxy: its claim of an external address changes nothing.
    assert.match(await get(['203.0.113.7'], STRANGER), /^HTTP\/1\.1 200/);
    assert.match(env.upstream.seen.at(-1)!, /\r\nX-Forwarded-For: 127\.0\.0\.2(\r\n|$)/i);
  });

  it('a trusted proxy that sends no header, or a malformed one, is refused (never the proxy\'s own zone)', async () => {
    assert.match(await get([]), /^HTTP\/1\.1 400[^]*bad-forwarded-for/);
    assert.match(await get(['203.0.113.7, not-an-address']), /^HTTP\/1\.1 400[^]*bad-forwarded-for/);
    assert.match(await get(['203.0.113.7,, 10.0.0.1']), /^HTTP\/1\.1 400/);
  });

  it('one connection keeps one client: a second request naming another is refused and the connection closed', async () => {
    const raw = await tcp(env.port);
    const s = tls.connect({ socket: raw, servername: 'mail.lab.example', rejectUnauthorized: false });
    await new Promise<void>((r) => s.once('secureConnect', () => r()));
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.write('GET /owa/ HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n');
    assert.ok(await waitFor(() => /\r\n\r\nok/.test(text), 2_000));
    s.write('GET /owa/ HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.8\r\n\r\n');
    await new Promise<void>((r) => s.once('close', () => r()));
    assert.match(text, /HTTP\/1\.1 400[^]*client-address-changed/);
  });
});
