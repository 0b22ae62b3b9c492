import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { negTokenInit, OID } from '../src/identity/spnego.js';
import { oidBytes, tlv } from '../src/identity/der.js';
import { type Env, startEnv, RPC_TARGET } from './helpers/env.js';
import { RawClient } from '../src/doctor/http-probe.js';

import { NEGOTIATE, authenticateFor } from '../src/doctor/ntlm-client.js';

const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

/** NTLM login on a fresh connection to `path` with `method`; returns the final response and the client. */
async function ntlm(env: Env, path: string, user: string, domain = 'LAB', password = 'Passw0rd!', method = 'GET') {
  const c = await RawClient.connect(env.port, env.pki.ca);
  const r1 = await c.request(method, path, { Authorization: `NTLM ${NEGOTIATE.toString('base64')}`, 'Content-Length': '0' });
  const challenge = /^NTLM (\S+)/.exec(r1.header('www-authenticate') ?? '')?.[1];
  assert.ok(challenge, `expected an NTLM challenge on ${path}, got ${r1.head.status}`);
  const r2 = await c.request(method, path, { Authorization: `NTLM ${await authenticateFor(challenge, user, domain, password)}`, 'Content-Length': '0' });
  return { r: r2, c };
}

describe('access policy at the gateway (demo directory and policy)', () => {
  let env: Env;
  before(async () => {
    env = await startEnv();
  });
  after(() => env.stop());

  const labSaw = (user: string) => env.lab.state.log.filter((e) => e.claimedUser?.toLowerCase() === user.toLowerCase() || e.identity?.toLowerCase() === user.toLowerCase());

  for (const [user, why] of [
    ['alice', 'direct member of Outlook-Remote'],
    ['bob', 'member through the nested group Sales'],
  ] as const) {
    for (const [path, protocol] of [
      ['/mapi/emsmdb/?MailboxId=x@lab.example', 'mapi'],
      ['/EWS/Exchange.asmx', 'ews'],
    ] as const) {
      it(`${user} (${why}) may use ${protocol} from outside`, async () => {
        const { r, c } = await ntlm(env, path, user, 'LAB', 'Passw0rd!', 'POST');
        assert.notEqual(r.head.status, 403);
        assert.equal(r.header('x-lab-identity'), `LAB\\${user}`);
        c.close();
      });
    }
  }

  it('bob may open an RPC channel from outside; 100 Continue binds nothing, the claim stays pending', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    c.write(`RPC_OUT_DATA /rpc/rpcproxy.dll?${RPC_TARGET} HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('LAB\\bob')}\r\nExpect: 100-continue\r\nContent-Length: 76\r\n\r\n`);
    const cont = await c.read('RPC_OUT_DATA', 5000, true);
    assert.equal(cont.head.status, 100);
    await new Promise((r) => setTimeout(r, 50));
    const conn = [...env.gateway.connections].find((x) => x.pending?.entry?.key === 'LAB\\bob');
    assert.ok(conn, 'the channel is held as claimed by bob (revocation reaches it)');
    assert.equal(conn.identity, undefined, '100 Continue is no proof of authentication');
    c.close();
  });

  it('carol is refused the way a wrong password is, and Exchange never receives her AUTHENTICATE', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    const r1 = await c.request('POST', '/EWS/Exchange.asmx', { Authorization: `NTLM ${NEGOTIATE.toString('base64')}`, 'Content-Length': '0' });
    const challenge = /^NTLM (\S+)/.exec(r1.header('www-authenticate') ?? '')![1]!;
    const before = env.lab.state.log.length;
    const r2 = await c.request('POST', '/EWS/Exchange.asmx', { Authorization: `NTLM ${await authenticateFor(challenge, 'carol', 'LAB', 'Passw0rd!')}`, 'Content-Length': '0' });
    assert.equal(r2.head.status, 401);
    assert.equal(r2.header('x-portcullis-reason'), undefined, 'no reason before a password is proven');
    assert.deepEqual(env.lab.state.log.slice(before).map((e) => e.authorization), [undefined], 'the lab saw the request without credentials');
    assert.equal(labSaw('LAB\\carol').length, 0);
    c.close();
  });

  it('carol on an RPC channel gets Exchange\'s 401, not a gateway error form', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    c.write(`RPC_IN_DATA /rpc/rpcproxy.dll?${RPC_TARGET} HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('LAB\\carol')}\r\nContent-Length: 1073741824\r\n\r\n`);
    const r = await c.read('RPC_IN_DATA');
    assert.equal(r.head.status, 401);
    assert.equal(labSaw('LAB\\carol').length, 0);
    c.close();
  });

  it('dave may use ActiveSync but not EWS', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    const eas = await c.request('OPTIONS', '/Microsoft-Server-ActiveSync', { Authorization: basic('dave@lab.example') });
    assert.equal(eas.head.status, 200);
    assert.equal(eas.header('x-lab-identity'), 'LAB\\dave');
    const ews = await c.request('POST', '/EWS/Exchange.asmx', { Authorization: basic('LAB\\dave') }, '<x/>');
    assert.equal(ews.head.status, 403);
    c.close();
  });

  it('UPN and DOMAIN\\user forms name the same user; NTLM with a UPN and empty domain too', async () => {
    for (const name of ['bob@lab.example', 'LAB\\bob', 'lab\\BOB']) {
      const c = await RawClient.connect(env.port, env.pki.ca);
      const r = await c.request('GET', '/owa/', { Authorization: basic(name) });
      assert.equal(r.head.status, 200, name);
      c.close();
    }
    const { r, c } = await ntlm(env, '/owa/', 'alice@lab.example', '');
    assert.equal(r.head.status, 200);
    assert.equal(r.header('x-lab-identity'), 'LAB\\alice');
    c.close();
  });

  it('an unknown domain is denied, never matched by user name alone', async () => {
    const before = env.lab.state.log.length;
    for (const name of ['EVIL\\alice', 'alice@evil.example']) {
      const c = await RawClient.connect(env.port, env.pki.ca);
      const r = await c.request('GET', '/owa/', { Authorization: basic(name) });
      assert.equal(r.head.status, 401);
      assert.equal(r.header('x-lab-identity'), undefined);
      c.close();
    }
    assert.ok(env.lab.state.log.slice(before).every((e) => e.claimedUser === undefined && e.identity === undefined), 'no credential reached the lab');
  });

  it('an authenticated connection is re-checked per request: the protocol may differ', async () => {
    const { r, c } = await ntlm(env, '/owa/', 'alice');
    assert.equal(r.head.status, 200);
    const ok = await c.request('POST', '/EWS/Exchange.asmx', {}, '<x/>');
    assert.equal(ok.header('x-lab-identity'), 'LAB\\alice');
    const eas = await c.request('OPTIONS', '/Microsoft-Server-ActiveSync');
    assert.equal(eas.head.status, 403, 'alice is not in Mobile-Only');
    await c.waitClosed();
  });

  it('an unauthenticated first leg passes and gets Exchange\'s 401, with bare Negotiate offers removed', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    const r = await c.request('POST', '/EWS/Exchange.asmx', {}, '<x/>');
    assert.equal(r.head.status, 401);
    const offers = r.head.headers.filter((h) => h.name.toLowerCase() === 'www-authenticate').map((h) => h.value);
    assert.ok(offers.includes('NTLM'));
    assert.ok(!offers.includes('Negotiate'), 'Negotiate is stripped externally so the user stays visible');
    c.close();
  });

  it('refuses Kerberos (user not visible) and malformed credentials before Exchange sees them', async () => {
    const before = env.lab.state.log.length;
    const krb = tlv(0x60, tlv(0x06, oidBytes(OID.kerberos)), Buffer.from([1, 0]), tlv(0x6e, tlv(0x30)));
    const c1 = await RawClient.connect(env.port, env.pki.ca);
    const r1 = await c1.request('GET', '/owa/', { Authorization: `Negotiate ${negTokenInit(krb, [OID.kerberos, OID.ntlm]).toString('base64')}` });
    assert.equal(r1.head.status, 401, 'concealed: Exchange\'s answer to an anonymous request');
    assert.equal(r1.header('x-portcullis-reason'), undefined);
    const c2 = await RawClient.connect(env.port, env.pki.ca);
    const r2 = await c2.request('GET', '/owa/', { Authorization: 'NTLM TlRMTVNTUAADAAAA' });
    assert.equal(r2.head.status, 400);
    assert.equal(r2.header('x-portcullis-reason'), 'malformed-credentials');
    assert.ok(env.lab.state.log.slice(before).every((e) => e.authorization === undefined), 'no ticket reached the lab');
  });

  it('SPNEGO-wrapped NTLM identifies the user like raw NTLM', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    const r1 = await c.request('GET', '/owa/', { Authorization: `Negotiate ${negTokenInit(NEGOTIATE).toString('base64')}` });
    assert.equal(r1.head.status, 401);
    assert.ok(/^Negotiate oY/.test(r1.header('www-authenticate') ?? ''), 'the lab answers with a NegTokenResp');
    c.close();
  });
});
