import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
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

// Issue #10, from an outside attack: web shells inside published folders, ECP's own DDI calls
// refused, Exchange's diagnostic headers reaching anonymous clients.
const OAB = '3f2a5c10-7b1e-4d7a-9a41-2c6d1e0b8f11';
/** Headers the lab sends like Exchange does (src/lab/lab-http.ts) that name servers or versions. */
const DIAGNOSTIC = ['x-feserver', 'x-beserver', 'x-calculatedbetarget', 'x-diaginfo', 'x-owa-version', 'server', 'x-powered-by', 'x-aspnet-version', 'x-backendhttpstatus'];
const names = (r: { head: { headers: readonly { name: string }[] } }) => r.head.headers.map((h) => h.name.toLowerCase());

async function send(env: Env, method: string, target: string, headers: Record<string, string> = {}) {
  const c = await RawClient.connect(env.port, env.pki.ca);
  try {
    return await c.request(method, target, headers, method === 'POST' ? '' : undefined);
  } finally {
    c.close();
  }
}

describe('issue #10 from the external zone', () => {
  let env: Env;
  before(async () => {
    env = await startEnv();
  });
  after(() => env.stop());

  for (const [method, target, reason] of [
    ['POST', '/owa/auth/Current/themes/resources/zb.aspx', 'exploit-shape:web-shell'],
    ['GET', `/OAB/${OAB}/zb.aspx`, 'exploit-shape:web-shell'],
    ['POST', '/owa/auth/web.aspx', 'exploit-shape:web-shell'],
    ['GET', '/owa/prem/15.2.1544.4/scripts/zb.asmx', 'exploit-shape:web-shell'],
    ['GET', '/owa/forms/basic/BasicEditMessage.aspx', 'path-not-allowed'],
    ['GET', '/owa/zb.aspx', 'path-not-allowed'],
    ['GET', `/OAB/${OAB}/zb.txt`, 'path-not-allowed'],
    ['GET', '/mapi/emsmdb/zb.aspx', 'path-not-allowed'],
  ] as const) {
    it(`refuses ${method} ${target} as alice (${reason}), unseen by Exchange`, async () => {
      const before = env.lab.state.log.length;
      const r = await send(env, method, target, { Authorization: basic('LAB\\alice') });
      assert.equal(r.head.status, 403);
      assert.equal(r.header('x-portcullis-reason'), reason);
      assert.equal(env.lab.state.log.length, before, 'the lab saw nothing');
    });
  }

  for (const target of [`/OAB/${OAB}/oab.xml`, '/owa/auth/Current/themes/resources/favicon.ico', '/owa/service.svc?action=GetFolder', '/owa/alice@lab.example/']) {
    it(`still serves ${target} to alice`, async () => assert.equal((await send(env, 'GET', target, { Authorization: basic('LAB\\alice') })).head.status, 200));
  }

  it('an anonymous client learns no server name or version from Exchange\'s headers', async () => {
    const r = await send(env, 'GET', '/owa/');
    assert.equal(r.head.status, 401);
    assert.deepEqual(names(r).filter((n) => DIAGNOSTIC.includes(n)), []);
    assert.ok(names(r).includes('www-authenticate') && names(r).includes('content-type'), 'other headers pass');
  });

  it('nor does an authenticated one, on any protocol', async () => {
    for (const target of ['/owa/', '/EWS/Exchange.asmx', `/OAB/${OAB}/oab.xml`]) {
      const r = await send(env, 'GET', target, { Authorization: basic('LAB\\alice') });
      assert.equal(r.header('x-lab-identity'), 'LAB\\alice', target);
      assert.deepEqual(names(r).filter((n) => DIAGNOSTIC.includes(n)), [], target);
    }
  });
});

describe('issue #10 from the internal zone', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ config: (b) => ({ ...b, listeners: (b['listeners'] as Array<Record<string, unknown>>).map((l) => ({ ...l, zone: 'internal' })) }) });
  });
  after(() => env.stop());

  it('the ECP admin pages load their lists: DDIService GetList reaches Exchange', async () => {
    const before = env.lab.state.log.length;
    const r = await send(env, 'POST', '/ecp/DDI/DDIService.svc/GetList?reqId=1615583487987&schema=VirtualDirectory&msExchEcpCanary=x', { Authorization: basic('LAB\\alice'), 'Content-Type': 'application/json; charset=utf-8' });
    assert.equal(r.head.status, 200);
    assert.equal(env.lab.state.log.length, before + 1);
  });

  it('the virtual-directory reset that writes the web shell stays refused inside', async () => {
    const r = await send(env, 'POST', '/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory&msExchEcpCanary=x', { Authorization: basic('LAB\\alice') });
    assert.equal(r.head.status, 403);
    assert.equal(r.header('x-portcullis-reason'), 'exploit-shape:proxylogon-ecp');
  });

  it('web shells are refused inside too', async () => {
    const r = await send(env, 'GET', `/OAB/${OAB}/zb.aspx`, { Authorization: basic('LAB\\alice') });
    assert.equal(r.header('x-portcullis-reason'), 'exploit-shape:web-shell');
  });

  it('inside, Exchange\'s diagnostic headers pass by default; edge.responseHeaders decides (hot reload)', async () => {
    const r = await send(env, 'GET', '/owa/', { Authorization: basic('LAB\\alice') });
    assert.deepEqual(names(r).filter((n) => DIAGNOSTIC.includes(n)).sort(), [...DIAGNOSTIC].sort());
    const cfg = parse(readFileSync(env.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(env.configFile, stringify({ ...cfg, edge: { responseHeaders: { zones: ['internal'], strip: ['x-feserver', 'X-Calculated*'] } } }));
    assert.ok(await env.runtime.reload());
    const r2 = await send(env, 'GET', '/owa/', { Authorization: basic('LAB\\alice') });
    assert.deepEqual(names(r2).filter((n) => DIAGNOSTIC.includes(n)).sort(), DIAGNOSTIC.filter((n) => n !== 'x-feserver' && n !== 'x-calculatedbetarget').sort());
  });
});
