// What the gateway sends to Exchange and what it refuses from it, seen on a stand-in upstream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawClient } from '../src/doctor/http-probe.js';
import { cannedServer } from './helpers/canned-upstream.js';
import { startEnv } from './helpers/env.js';

const basic = `Basic ${Buffer.from('LAB\\alice:Passw0rd!').toString('base64')}`;

async function through(response: string, request: (c: RawClient) => Promise<unknown>) {
  const up = await cannedServer(() => Buffer.from(response), { waitForBody: false });
  const env = await startEnv({ upstreamUrl: up.url });
  try {
    const c = await RawClient.connect(env.port, env.pki.ca);
    const r = await request(c);
    return { r, seen: up.seen };
  } finally {
    await env.stop();
    await up.stop();
  }
}

describe('forwarding to the upstream', () => {
  it('drops hop-by-hop headers, sets X-Forwarded-*, keeps Host, the target and end-to-end headers', async () => {
    const { seen } = await through('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', (c) =>
      c.request('GET', '/owa/?a=%41&b', { Host: 'mail.lab.example', Authorization: basic, Connection: 'keep-alive, X-Secret', 'X-Secret': 'hop', 'Keep-Alive': 'timeout=5', 'Proxy-Authorization': 'Basic x', 'X-Forwarded-For': '198.51.100.7', Forwarded: 'for=198.51.100.7', 'X-Real-IP': '198.51.100.7', 'X-Forwarded-Server': 'evil', 'True-Client-IP': '198.51.100.7', Cookie: 'a=b' }),
    );
    const head = seen[0]!;
    assert.match(head, /^GET \/owa\/\?a=%41&b HTTP\/1\.1\r\n/);
    assert.match(head, /\r\nHost: mail\.lab\.example\r\n/);
    assert.match(head, /\r\nCookie: a=b\r\n/);
    assert.match(head, /\r\nX-Forwarded-For: 127\.0\.0\.1\r\n/);
    assert.doesNotMatch(head, /198\.51\.100\.7|evil/, 'client-supplied forwarding fields are dropped, never extended');
    assert.match(head, /\r\nX-Forwarded-Proto: https\r\n/);
    assert.match(head, /\r\nX-Forwarded-Host: mail\.lab\.example(\r\n|$)/);
    for (const gone of ['Connection', 'Keep-Alive', 'X-Secret', 'Proxy-Authorization']) assert.doesNotMatch(head, new RegExp(`\r\n${gone}:`, 'i'));
  });

  it('refuses a protocol switch (101) from the upstream with 502', async () => {
    const { r } = await through('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', (c) => c.request('GET', '/owa/', { Authorization: basic }));
    const res = r as Awaited<ReturnType<RawClient['request']>>;
    assert.equal(res.head.status, 502);
    assert.equal(res.header('x-portcullis-reason'), 'upstream-bad-response');
  });

  it('refuses ambiguous upstream framing (Content-Length with Transfer-Encoding) with 502', async () => {
    const { r } = await through('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', (c) => c.request('GET', '/owa/', { Authorization: basic }));
    assert.equal((r as Awaited<ReturnType<RawClient['request']>>).head.status, 502);
  });

  it('an answer to a request without credentials must be a handshake (401), not content', async () => {
    const { r } = await through('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret', (c) => c.request('GET', '/owa/'));
    const res = r as Awaited<ReturnType<RawClient['request']>>;
    assert.equal(res.head.status, 403);
    assert.equal(res.header('x-portcullis-reason'), 'unauthenticated-answer');
    assert.doesNotMatch(res.body.toString(), /secret/);
  });
});
