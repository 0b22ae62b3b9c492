import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXPLOITS } from '../src/classify/edge-rules.test.js';
import { type Env, RPC_TARGET, startEnv } from './helpers/env.js';
import { RawClient } from '../src/doctor/http-probe.js';

const basic = (u: string) => `Basic ${Buffer.from(`${u}:Passw0rd!`).toString('base64')}`;

describe('the hardened edge, end to end', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ config: (b) => ({ ...b, edge: { offeredSchemes: { eas: ['Basic'] } } }) });
  });
  after(() => env.stop());

  for (const e of EXPLOITS) {
    it(`refuses ${e.cve} (${e.shape}) before Exchange sees it: ${e.target.slice(0, 60)}`, async () => {
      const before = env.lab.state.log.length;
      const c = await RawClient.connect(env.port, env.pki.ca);
      const hs = Object.entries({ Authorization: basic('LAB\\alice'), ...(e.headers ?? {}) }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      c.write(`${e.method} ${e.target} HTTP/1.1\r\nHost: mail.lab.example\r\n${hs}Content-Length: 0\r\n\r\n`);
      const r = await c.read(e.method);
      assert.ok(r.head.status === 403 || r.head.status === 400 || r.head.status === 503, `status ${r.head.status}`);
      assert.equal(env.lab.state.log.length, before, 'the lab saw nothing');
      c.close();
    });
  }

  for (const [target, reason] of [
    ['EXCH01:593', 'rpc-target-not-allowed'],
    ['2f1e5a4c-0d4e-4c3b-9a1f-7e6d5c4b3a21@evil.example:6001', 'rpc-target-not-allowed'],
    ['2f1e5a4c-0d4e-4c3b-9a1f-7e6d5c4b3a21@lab.example:135', 'rpc-target-not-allowed'],
  ] as const) {
    it(`refuses the RPC target ${target}`, async () => {
      const c = await RawClient.connect(env.port, env.pki.ca);
      c.write(`RPC_IN_DATA /rpc/rpcproxy.dll?${target} HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('LAB\\alice')}\r\nContent-Length: 1073741824\r\n\r\n`);
      const r = await c.read('RPC_IN_DATA');
      assert.equal(`${r.head.status} ${r.head.reason}`, '503 RPC Error: 5');
      assert.equal(r.header('x-portcullis-reason'), reason);
      c.close();
    });
  }

  it('lets an allowed RPC target through', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    c.write(`RPC_OUT_DATA /rpc/rpcproxy.dll?${RPC_TARGET} HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('LAB\\alice')}\r\nExpect: 100-continue\r\nContent-Length: 76\r\n\r\n`);
    assert.equal((await c.read('RPC_OUT_DATA', 5000, true)).head.status, 100);
    c.close();
  });

  it('refuses a path that is not published for its protocol', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    const r = await c.request('GET', '/EWS/Operations/GetStuff', { Authorization: basic('LAB\\alice') });
    assert.equal(r.head.status, 403);
    assert.equal(r.header('x-portcullis-reason'), 'path-not-allowed');
  });

  it('offers only the configured schemes (ActiveSync: Basic) in 401 answers', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    const r = await c.request('OPTIONS', '/Microsoft-Server-ActiveSync');
    assert.equal(r.head.status, 401);
    const offers = r.head.headers.filter((h) => h.name.toLowerCase() === 'www-authenticate').map((h) => h.value.split(' ')[0]);
    assert.deepEqual(offers, ['Basic']);
  });
});
