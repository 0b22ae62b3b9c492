import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Env, startEnv, RPC_TARGET } from './helpers/env.js';
import { RawClient } from '../src/doctor/http-probe.js';

import { ntlmLogin } from '../src/doctor/ntlm-client.js';

const run = promisify(execFile);

describe('gateway forwarding (in-process lab + gateway on port 0)', () => {
  let env: Env;
  before(async () => {
    env = await startEnv();
  });
  after(() => env.stop());

  it('curl --ntlm reaches the lab as that user through the gateway', async () => {
    const { stdout } = await run('curl', ['-s', '-i', '--cacert', env.pki.caFile, '--ntlm', '-u', 'LAB\\alice:Passw0rd!', `${env.url}/owa/`]);
    assert.match(stdout, /HTTP\/1\.1 200 OK/);
    assert.match(stdout, /X-Lab-Identity: LAB\\alice/);
  });

  it('curl --basic reaches the lab as that user (UPN form)', async () => {
    const { stdout } = await run('curl', ['-s', '-i', '--cacert', env.pki.caFile, '--basic', '-u', 'bob@lab.example:Passw0rd!', `${env.url}/EWS/Exchange.asmx`]);
    assert.match(stdout, /HTTP\/1\.1 200 OK/);
    assert.match(stdout, /X-Lab-Identity: LAB\\bob/);
  });

  it('pins: one upstream connection per client connection, reused for its later requests', async () => {
    const start = env.lab.state.log.length;
    const a = await RawClient.connect(env.port, env.pki.ca);
    const b = await RawClient.connect(env.port, env.pki.ca);
    const ra = await ntlmLogin(a, '/owa/', 'alice', 'LAB', 'Passw0rd!');
    const rb = await ntlmLogin(b, '/owa/', 'bob', 'LAB', 'Passw0rd!');
    assert.equal(ra.header('x-lab-identity'), 'LAB\\alice');
    assert.equal(rb.header('x-lab-identity'), 'LAB\\bob');
    // No Authorization on later requests: the pinned, authenticated connection carries the identity.
    const ra2 = await a.request('GET', '/owa/');
    const rb2 = await b.request('GET', '/owa/');
    assert.equal(ra2.header('x-lab-identity'), 'LAB\\alice');
    assert.equal(rb2.header('x-lab-identity'), 'LAB\\bob');
    const conns = (user: string) => new Set(env.lab.state.log.slice(start).filter((e) => e.identity === user).map((e) => e.connection));
    assert.equal(conns('LAB\\alice').size, 1);
    assert.equal(conns('LAB\\bob').size, 1);
    assert.notDeepEqual([...conns('LAB\\alice')], [...conns('LAB\\bob')]);
    a.close();
    b.close();
  });

  it('answers pipelined requests in order, one at a time', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    const auth = `Basic ${Buffer.from('LAB\\alice:Passw0rd!').toString('base64')}`;
    c.write(`GET /owa/1 HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\n\r\nGET /owa/2 HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\n\r\n`);
    const r1 = await c.read();
    const r2 = await c.read();
    assert.equal(r1.head.status, 200);
    assert.equal(r2.head.status, 200);
    assert.equal(r2.header('x-lab-identity'), 'LAB\\alice');
    c.close();
  });

  const smuggling: Array<[string, string, number]> = [
    ['CL + TE', 'POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['two Content-Length', 'POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400],
    ['TE xchunked', 'POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n', 400],
    ['obs-fold', 'GET /owa/ HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n', 400],
    ['bad chunk size', 'POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
    ['path climbing above root', 'GET /../owa/ HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['ECP from outside', 'GET /ecp/ HTTP/1.1\r\nHost: x\r\n\r\n', 403],
    ['PowerShell from outside', 'POST /powershell HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n', 403],
    ['unknown path from outside', 'GET /aspnet_client/ HTTP/1.1\r\nHost: x\r\n\r\n', 403],
    ['huge Content-Length', 'POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n', 413],
  ];
  for (const [name, raw, status] of smuggling) {
    it(`refuses ${name} with ${status} and closes, forwarding nothing`, async () => {
      const before = env.lab.state.log.length;
      const c = await RawClient.connect(env.port, env.pki.ca);
      c.write(raw);
      const r = await c.read();
      assert.equal(r.head.status, status);
      assert.equal(r.header('connection'), 'close');
      await c.waitClosed();
      assert.equal(env.lab.state.log.length, before, 'the lab must not have seen the request');
    });
  }

  it('re-frames a valid chunked request body', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    const auth = `Basic ${Buffer.from('LAB\\alice:Passw0rd!').toString('base64')}`;
    c.write(`POST /owa/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\n\r\n`);
    const r = await c.read('POST');
    assert.equal(r.head.status, 200);
    c.close();
  });

  it('relays 100 Continue literally and answers RPC echo requests', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    const auth = `Basic ${Buffer.from('LAB\\alice:Passw0rd!').toString('base64')}`;
    c.write(`RPC_IN_DATA /rpc/rpcproxy.dll?${RPC_TARGET} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Length: 0\r\n\r\n`);
    const echo = await c.read('RPC_IN_DATA');
    assert.equal(echo.head.status, 200);
    assert.equal(echo.head.reason, 'Success');
    assert.equal(echo.body.length, 20);
    c.close();
    const d = await RawClient.connect(env.port, env.pki.ca);
    d.write(`RPC_OUT_DATA /rpc/rpcproxy.dll?${RPC_TARGET} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nExpect: 100-continue\r\nContent-Length: 76\r\n\r\n`);
    const cont = await d.read('RPC_OUT_DATA', 5000, true);
    assert.equal(cont.head.status, 100);
    assert.equal(`HTTP/${cont.head.version} ${cont.head.status} ${cont.head.reason}`, 'HTTP/1.1 100 Continue');
    d.close();
  });
});

describe('upstream failures name their cause', () => {
  it('503 when Exchange refuses the connection', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const env = await startEnv({ upstreamUrl: `https://127.0.0.1:${port}` });
    try {
      const c = await RawClient.connect(env.port, env.pki.ca);
      const r = await c.request('GET', '/owa/');
      assert.equal(r.head.status, 503);
      assert.equal(r.header('x-portcullis-reason'), 'upstream-refused');
      assert.match(r.body.toString(), /refused/);
    } finally {
      await env.stop();
    }
  });

  it('504 when Exchange accepts TCP but never completes TLS', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    const env = await startEnv({ upstreamUrl: `https://127.0.0.1:${port}` });
    try {
      const c = await RawClient.connect(env.port, env.pki.ca);
      const r = await c.request('GET', '/owa/');
      assert.equal(r.head.status, 504);
      assert.equal(r.header('x-portcullis-reason'), 'upstream-connect-timeout');
    } finally {
      await env.stop();
      silent.close();
    }
  });

  it('502 when the upstream certificate is not trusted', async () => {
    const env = await startEnv({ config: (b) => ({ ...b, upstream: { ...(b.upstream as object), tls: {} } }) });
    try {
      const c = await RawClient.connect(env.port, env.pki.ca);
      const r = await c.request('GET', '/owa/');
      assert.equal(r.head.status, 502);
      assert.equal(r.header('x-portcullis-reason'), 'upstream-tls');
    } finally {
      await env.stop();
    }
  });
});
