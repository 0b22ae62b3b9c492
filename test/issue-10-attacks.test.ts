// Regression tests for the outside attack of issue #10, each written as the attacker did it.
// Every one of them failed on the code before the fix (stated per test).
import assert from 'node:assert/strict';
import { once as onceEvent } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { RawClient, type RawResponse } from '../src/doctor/http-probe.js';
import { NEGOTIATE, authenticateFor } from '../src/doctor/ntlm-client.js';
import { cannedServer } from './helpers/canned-upstream.js';
import { type Env, RPC_TARGET, startEnv } from './helpers/env.js';

const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const EWS = '/EWS/Exchange.asmx';

async function ntlmLogin(port: number, ca: string, path: string, user: string, method = 'GET'): Promise<{ c: RawClient; r: RawResponse }> {
  const c = await RawClient.connect(port, ca);
  const r1 = await c.request(method, path, { Authorization: `NTLM ${NEGOTIATE.toString('base64')}`, 'Content-Length': '0' });
  const challenge = /^NTLM (\S+)/.exec(r1.header('www-authenticate') ?? '')![1]!;
  const r = await c.request(method, path, { Authorization: `NTLM ${await authenticateFor(challenge, user, 'LAB', 'Passw0rd!')}`, 'Content-Length': '0' });
  return { c, r };
}

/** What a client can compare between two answers: status line, headers, body. */
function visible(r: RawResponse): string {
  // Per-answer values differ between any two answers of Exchange itself: leave them out.
  const hs = r.head.headers.filter((h) => !/^(date|x-portcullis-ref|request-id)$/i.test(h.name)).map((h) => `${h.name}: ${h.value}`);
  return [`${r.head.status} ${r.head.reason}`, ...hs, r.body.toString('latin1')].join('\n');
}

async function once(port: number, ca: string, auth: string, path = EWS): Promise<{ r: RawResponse; ms: number }> {
  const c = await RawClient.connect(port, ca);
  const t0 = performance.now();
  const r = await c.request('POST', path, { Authorization: auth, 'Content-Type': 'text/xml' }, '<x/>');
  const ms = performance.now() - t0;
  c.close();
  return { r, ms };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('issue #10: the attacks on a running gateway', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({
      // Exchange asks a domain controller for every password: a concealed refusal must take as long.
      lab: { authDelayMs: 25 },
      config: (b) => {
        const [ext] = b.listeners as Array<Record<string, unknown>>;
        return { ...b, listeners: [ext, { ...ext, name: 'internal', zone: 'internal' }], lockout: { threshold: 5, window: '15m', cooldown: '15m', attemptWait: '2s' } };
      },
    });
  });
  after(() => env.stop());
  const internalPort = () => env.gateway.listeners[1]!.port;

  it('Connection: content-length cannot smuggle a second request past the gates (old code: 200 from ECP as carol)', async () => {
    const inner = `GET /ecp/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('LAB\\carol')}\r\n\r\n`;
    const c = await RawClient.connect(env.port, env.pki.ca);
    const before = env.lab.state.log.length;
    c.write(`GET /owa/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('LAB\\alice')}\r\nConnection: content-length\r\nContent-Length: ${inner.length}\r\n\r\n${inner}GET /owa/ HTTP/1.1\r\nHost: x\r\n\r\n`);
    const r = await c.read();
    assert.equal(r.head.status, 400);
    assert.equal(r.header('x-portcullis-reason'), 'connection-names-protected-field');
    await c.waitClosed();
    assert.ok(!env.lab.state.log.slice(before).some((e) => e.path.startsWith('/ecp')), 'ECP never saw the smuggled request');
    for (const named of ['Transfer-Encoding', 'Host', 'Authorization', 'Expect', 'Cookie']) {
      const d = await RawClient.connect(env.port, env.pki.ca);
      const x = await d.request('GET', '/owa/', { Authorization: basic('LAB\\alice'), Connection: `keep-alive, ${named}` });
      assert.equal(x.head.status, 400, `Connection: ${named}`);
    }
  });

  it('an answer whose Connection header names its own framing is refused, not relayed (old code: relayed without Content-Length)', async () => {
    const up = await cannedServer(() => Buffer.from('HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 5\r\n\r\nhello'), { waitForBody: false });
    const e2 = await startEnv({ upstreamUrl: up.url });
    try {
      const c = await RawClient.connect(e2.port, e2.pki.ca);
      const r = await c.request('GET', '/owa/', { Authorization: basic('LAB\\alice') });
      assert.equal(r.head.status, 502);
    } finally {
      await e2.stop();
      await up.stop();
    }
  });

  it('duplicate Authorization, an overlong method and heads the X-Forwarded-* fields push over the limit are refused', async () => {
    const c1 = await RawClient.connect(env.port, env.pki.ca);
    c1.write(`GET /owa/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('LAB\\alice')}\r\nAuthorization: ${basic('LAB\\carol')}\r\n\r\n`);
    const r1 = await c1.read();
    assert.equal(r1.head.status, 400);
    assert.equal(r1.header('x-portcullis-reason'), 'duplicate-field');
    const c2 = await RawClient.connect(env.port, env.pki.ca);
    c2.write(`${'X'.repeat(60_000)} /owa/ HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal((await c2.read()).head.status, 400);
    const c3 = await RawClient.connect(env.port, env.pki.ca);
    const many = Array.from({ length: 97 }, (_, i) => `X-F${i}: v\r\n`).join('');
    c3.write(`GET /owa/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('LAB\\alice')}\r\n${many}\r\n`);
    const r3 = await c3.read();
    assert.equal(r3.head.status, 431, '99 fields plus the 3 X-Forwarded-* the gateway adds exceed 100');
  });

  it('a wrong password sent to an anonymous endpoint does not rebind a connection proven as dave (old code: rebound to alice)', async () => {
    const { c, r } = await ntlmLogin(env.port, env.pki.ca, '/Microsoft-Server-ActiveSync', 'dave', 'OPTIONS');
    assert.equal(r.head.status, 200);
    const conn = [...env.gateway.connections].find((x) => x.identity?.entry?.key === 'LAB\\dave');
    assert.ok(conn, 'proven as dave by a 2xx from an endpoint that requires authentication');
    const before = env.lab.state.log.length;
    const a = await c.request('GET', '/autodiscover/autodiscover.json/v1.0/dave@lab.example?Protocol=ActiveSync', { Authorization: basic('LAB\\alice', 'wrong') });
    assert.equal(a.head.status, 200, 'an anonymous endpoint answers, without the credentials it does not need');
    assert.ok(env.lab.state.log.slice(before).every((e) => e.authorization === undefined), 'alice\'s password never reached Exchange');
    assert.equal(conn.identity?.entry?.key, 'LAB\\dave', 'never silently rebound');
    const b = await c.request('POST', EWS, { Authorization: basic('LAB\\alice') }, '<x/>');
    assert.equal(b.head.status, 403);
    assert.equal(b.header('x-portcullis-reason'), 'identity-mismatch');
    await c.waitClosed();
  });

  it('no handshake on an anonymous page, and an unproven credential leaves nothing to ride on (outside attack: alice served, dave bound)', async () => {
    // NTLM on an anonymous page: Exchange could authenticate the connection without the gateway
    // ever seeing proof. The credentials never get there.
    const before = env.lab.state.log.length;
    const c = await RawClient.connect(env.port, env.pki.ca);
    const r = await c.request('GET', '/owa/auth/logon.aspx', { Authorization: `NTLM ${NEGOTIATE.toString('base64')}` });
    assert.ok(!r.head.headers.some((h) => /^ntlm \S+/i.test(h.value)), `no NTLM challenge (got ${r.head.status})`);
    assert.ok(env.lab.state.log.slice(before).every((e) => e.authorization === undefined));
    c.close();
    // A credential answered neither by 401 nor by proof (here Exchange's 500 for a bad EWS body,
    // after authenticating): the gateway cannot know who Exchange now thinks this is. It closes.
    const up = await cannedServer(() => Buffer.from('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n'), { waitForBody: false });
    const e2 = await startEnv({ upstreamUrl: up.url });
    try {
      const d = await RawClient.connect(e2.port, e2.pki.ca);
      const x = await d.request('POST', EWS, { Authorization: basic('LAB\\alice') }, '<x/>');
      assert.equal(x.head.status, 500);
      assert.equal(x.header('connection'), 'close');
      await d.waitClosed(2_000);
    } finally {
      await e2.stop();
      await up.stop();
    }
  });

  it("a wrong password on a proven connection does not unbind it: the next request is still judged as that user (outside attack: alice's EAS ran at Exchange)", async () => {
    const { c, r } = await ntlmLogin(env.port, env.pki.ca, '/owa/', 'bob');
    assert.equal(r.header('x-lab-identity'), 'LAB\\bob');
    const wrong = await c.request('GET', '/owa/', { Authorization: basic('LAB\\bob', 'wrong') });
    assert.equal(wrong.head.status, 401);
    const before = env.lab.state.log.length;
    const eas = await c.request('OPTIONS', '/Microsoft-Server-ActiveSync');
    assert.equal(eas.head.status, 403, 'bob may not use ActiveSync: judged as bob, not forwarded as anonymous');
    assert.equal(eas.header('x-portcullis-reason'), 'not-in-group, default-deny');
    assert.ok(!env.lab.state.log.slice(before).some((e) => e.path.toLowerCase().includes('activesync')), 'Exchange never ran it');
  });

  it("an anonymous endpoint's answer is no successful login: every fifth guess there does not reset the count (old code: 800 of 1,000 reached Exchange)", async () => {
    const before = env.lab.state.log.length;
    for (let i = 0; i < 25; i++) {
      const path = i % 5 === 4 ? '/autodiscover/autodiscover.json/v1.0/erin@lab.example?Protocol=EWS' : EWS;
      await once(env.port, env.pki.ca, basic('LAB\\erin', `guess-${i}`), path);
    }
    const guesses = env.lab.state.log.slice(before).filter((e) => e.claimedUser?.toLowerCase() === 'lab\\erin').length;
    assert.ok(guesses <= 5, `${guesses} guesses reached Exchange (threshold 5)`);
    assert.ok(env.lab.state.log.slice(before).filter((e) => e.path.includes('autodiscover.json')).every((e) => e.authorization === undefined), 'no password went to the anonymous endpoint');
    assert.equal(env.runtime.access.users.isLockedOut('LAB\\erin'), true);
  });

  it('200 wrong passwords fired at once reach Exchange at most `threshold` times; 12 concurrent right ones all get in (old code: 200 of 200)', async () => {
    const conns = await Promise.all(Array.from({ length: 200 }, () => RawClient.connect(env.port, env.pki.ca)));
    const before = env.lab.state.log.length;
    const answers = await Promise.all(conns.map((c) => c.request('POST', EWS, { Authorization: basic('LAB\\bob', 'spray') }, '<x/>')));
    const guesses = env.lab.state.log.slice(before).filter((e) => e.claimedUser?.toLowerCase() === 'lab\\bob').length;
    console.log(`# 200 concurrent wrong passwords: ${guesses} reached Exchange (threshold 5)`);
    assert.ok(guesses <= 5, `${guesses} guesses reached Exchange`);
    assert.ok(answers.every((a) => a.head.status === 401), `every one answered like a wrong password: ${JSON.stringify(answers.filter((a) => a.head.status !== 401).map((a) => [a.head.status, a.header('x-portcullis-reason')]).slice(0, 5))}`);
    conns.forEach((c) => c.close());
    // A legitimate Outlook opening many connections at once: each waits for a slot, none is refused.
    const right = await Promise.all(Array.from({ length: 12 }, () => once(env.port, env.pki.ca, basic('LAB\\alice'))));
    assert.deepEqual(right.map((x) => x.r.header('x-lab-identity')), Array(12).fill('LAB\\alice'));
  });

  it('an anonymous client cannot tell unknown, not allowed, locked or revoked accounts from a wrong password (old code: 403 with the reason)', async () => {
    env.runtime.access.users.revoke('LAB\\dave', 'test');
    const wrong = await once(env.port, env.pki.ca, basic('LAB\\alice', 'not-her-password'));
    assert.equal(wrong.r.head.status, 401);
    const cases: Array<[string, string]> = [
      ['unknown user', basic('LAB\\nobody')],
      ['unknown domain', basic('EVIL\\alice')],
      ['not in an allowed group', basic('LAB\\carol')],
      ['locked out (right password)', basic('LAB\\erin')],
      ['revoked', basic('LAB\\dave')],
    ];
    for (const [name, auth] of cases) {
      const x = await once(env.port, env.pki.ca, auth);
      assert.equal(visible(x.r), visible(wrong.r), name);
      assert.match(x.r.header('x-portcullis-ref') ?? '', /^[0-9a-f]{12}$/, `${name}: a reference id, as on every 401`);
    }
    assert.match(wrong.r.header('x-portcullis-ref') ?? '', /^[0-9a-f]{12}$/);
    env.runtime.access.users.unrevoke('LAB\\dave');
  });

  it('a concealed refusal takes as long as a wrong password (Exchange asks a domain controller: 25 ms here)', async () => {
    const wrong: number[] = [];
    const hidden: number[] = [];
    for (let i = 0; i < 12; i++) {
      wrong.push((await once(env.port, env.pki.ca, basic('LAB\\alice', `w${i}`))).ms);
      await env.runtime.authority!.unlock('LAB\\alice');
      hidden.push((await once(env.port, env.pki.ca, basic('LAB\\carol'))).ms);
    }
    const [w, h] = [median(wrong.slice(4)), median(hidden.slice(4))];
    console.log(`# median ms: wrong password ${w.toFixed(1)}, concealed refusal ${h.toFixed(1)}`);
    assert.ok(Math.abs(w - h) < 12, `wrong password ${w.toFixed(1)} ms vs concealed ${h.toFixed(1)} ms`);
  });

  it('inside, and on a proven connection, the reasons stay explicit; bodies carry no rule name', async () => {
    const c = await RawClient.connect(internalPort(), env.pki.ca);
    const r = await c.request('POST', EWS, { Authorization: basic('LAB\\carol') }, '<x/>');
    assert.equal(r.header('x-lab-identity'), 'LAB\\carol', 'carol may use EWS inside (default allow)');
    c.close();
    const { c: d, r: ok } = await ntlmLogin(env.port, env.pki.ca, '/Microsoft-Server-ActiveSync', 'dave', 'OPTIONS');
    assert.equal(ok.head.status, 200);
    const ews = await d.request('POST', EWS, {}, '<x/>');
    assert.equal(ews.head.status, 403, 'dave proved his password on this connection: he may hear why');
    assert.equal(ews.header('x-portcullis-reason'), 'not-in-group, default-deny');
    assert.match(ews.body.toString(), /^access denied: not-in-group, default-deny \(reference [0-9a-f]{12}\)\n$/);
  });

  it('a guess whose connection closes before the 401 comes back still counts (outside attack, round 2: 27 of 30 reached Exchange)', async () => {
    const before = env.lab.state.log.length;
    for (let i = 0; i < 20; i++) {
      const raw = net.connect(env.port, '127.0.0.1');
      const c = tls.connect({ socket: raw, ca: env.pki.ca, servername: 'mail.lab.example' });
      await onceEvent(c, 'secureConnect');
      c.write(`OPTIONS /Microsoft-Server-ActiveSync HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('LAB\\dave', `hit-and-run-${i}`)}\r\n\r\n`);
      // The lab takes 25 ms per password, like a domain controller: reset the connection as soon
      // as the password has reached it, well before its 401 (a client closing with unread TLS
      // session tickets sends a reset, as the attacker's did).
      const seen = env.lab.state.log.length;
      for (let t = 0; t < 200 && !env.lab.state.log.slice(seen).some((e) => e.authorization === 'Basic'); t++) await new Promise((r) => setTimeout(r, 2));
      c.on('error', () => {});
      raw.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    const guesses = env.lab.state.log.slice(before).filter((e) => e.claimedUser?.toLowerCase() === 'lab\\dave').length;
    console.log(`# 20 hit-and-run guesses: ${guesses} reached Exchange (threshold 5)`);
    assert.ok(guesses <= 5, `${guesses} guesses reached Exchange`);
    assert.equal(env.runtime.access.users.isLockedOut('LAB\\dave'), true);
  });

  it("a legitimate RPC channel closed after a second is no failed login (round 3: five dropped channels locked the user out)", async () => {
    await env.runtime.authority!.unlock('LAB\\bob'); // the spray above counted failures for bob
    for (let i = 0; i < 6; i++) {
      const raw = net.connect(env.port, '127.0.0.1');
      const c = tls.connect({ socket: raw, ca: env.pki.ca, servername: 'mail.lab.example' });
      await onceEvent(c, 'secureConnect');
      c.on('error', () => {});
      c.write(`RPC_IN_DATA /rpc/rpcproxy.dll?${RPC_TARGET} HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('LAB\\bob')}\r\nContent-Length: 1073741824\r\n\r\n`);
      await new Promise((r) => setTimeout(r, 1_200));
      raw.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(env.runtime.access.users.isLockedOut('LAB\\bob'), false);
    const r = await once(env.port, env.pki.ca, basic('LAB\\bob'));
    assert.equal(r.r.header('x-lab-identity'), 'LAB\\bob', 'bob still gets in');
  });

  it('a connection that never sends a request is closed after headersTimeout, not keepAliveTimeout', async () => {
    const e2 = await startEnv({ config: (b) => ({ ...b, http: { headersTimeout: '400ms', keepAliveTimeout: '2m' } }) });
    try {
      const c = await RawClient.connect(e2.port, e2.pki.ca);
      const t0 = Date.now();
      await c.waitClosed(3_000);
      assert.ok(Date.now() - t0 < 1_500, `closed after ${Date.now() - t0} ms`);
    } finally {
      await e2.stop();
    }
  });

  it('HTTP/1.0 without Host and a Host that is not host[:port] are refused (they would leave as HTTP/1.1 without, or with a path in, Host)', async () => {
    for (const raw of ['GET /owa/ HTTP/1.0\r\n\r\n', 'GET /owa/ HTTP/1.1\r\nHost: 127.0.0.1/ecp/\r\n\r\n', 'GET /owa/ HTTP/1.1\r\nHost: user@mail\r\n\r\n']) {
      const c = await RawClient.connect(env.port, env.pki.ca);
      c.write(raw);
      assert.equal((await c.read()).head.status, 400, JSON.stringify(raw));
    }
  });
});
