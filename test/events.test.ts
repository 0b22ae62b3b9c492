// The events seam (issue 12): every step of a client's life is on a typed channel, with the facts
// the old log lines lacked: the client address and port on every record, the claimed user on a
// denial at the NTLM step, the decision (reasons and rule) of allowed requests, the revoke reason,
// and the bytes of a rewritten Autodiscover answer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawClient } from '../src/doctor/http-probe.js';
import { NEGOTIATE, authenticateFor } from '../src/doctor/ntlm-client.js';
import { type EventName, type EventPayload, events } from '../src/events.js';
import { type Env, adminHeaders, startEnv } from './helpers/env.js';

const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

type Seen = { [N in EventName]: Array<EventPayload<N>> };

function record(): { seen: Seen; stop(): void } {
  const seen = Object.fromEntries(Object.keys(events).map((k) => [k, []])) as unknown as Seen;
  const offs = (Object.keys(events) as EventName[]).map((name) => {
    const fn = (m: unknown) => (seen[name] as unknown[]).push(m);
    (events[name] as { subscribe(f: (m: unknown) => void): void }).subscribe(fn);
    return () => (events[name] as { unsubscribe(f: (m: unknown) => void): boolean }).unsubscribe(fn);
  });
  return { seen, stop: () => offs.forEach((o) => o()) };
}

async function ntlm(env: Env, path: string, user: string) {
  const c = await RawClient.connect(env.port, env.pki.ca);
  const r1 = await c.request('GET', path, { Authorization: `NTLM ${NEGOTIATE.toString('base64')}` });
  const challenge = /^NTLM (\S+)/.exec(r1.header('www-authenticate') ?? '')![1]!;
  const r2 = await c.request('GET', path, { Authorization: `NTLM ${await authenticateFor(challenge, user, 'LAB', 'Passw0rd!')}` });
  return { r: r2, c };
}

const settle = () => new Promise((r) => setTimeout(r, 100));

describe('events seam', () => {
  let env: Env;
  let rec: ReturnType<typeof record>;
  before(async () => {
    env = await startEnv();
    rec = record();
  });
  after(async () => {
    rec.stop();
    await env.stop();
  });

  it('an allowed NTLM login: opened (client, SNI, TLS), decision with reasons and rule, bound, ended, closed', async () => {
    const { r, c } = await ntlm(env, '/owa/', 'alice');
    assert.equal(r.head.status, 200);
    c.close();
    await settle();
    const { seen } = rec;
    const opened = seen.connectionOpened.at(-1)!;
    assert.equal(opened.clientIp, '127.0.0.1');
    assert.ok(opened.clientPort > 0);
    assert.equal(opened.listener, 'external');
    assert.equal(opened.zone, 'external');
    assert.match(opened.tlsVersion ?? '', /^TLSv1\.[23]$/);
    const conn = opened.connection;
    const decisions = seen.gateDecision.filter((d) => d.connection === conn);
    assert.equal(decisions.length, 2, 'one decision per request');
    const last = decisions[1]!;
    assert.equal(last.allow, true);
    assert.equal(last.gate, 'access');
    assert.equal(last.user, 'LAB\\alice');
    assert.equal(last.scheme, 'NTLM');
    assert.deepEqual(last.decision.reasons, ['group-ok']);
    assert.equal(last.decision.rule, 'outlook-remote', 'the rule of an allowed request is on the record');
    const bound = seen.identityBound.find((e) => e.connection === conn)!;
    assert.equal(bound.user, 'LAB\\alice');
    assert.equal(bound.claimedUser, 'LAB\\alice');
    assert.equal(bound.clientIp, '127.0.0.1');
    const ended = seen.requestEnded.filter((e) => e.connection === conn);
    assert.deepEqual(ended.map((e) => e.status), [401, 200]);
    assert.equal(ended[1]!.user, 'LAB\\alice');
    assert.equal(ended[1]!.protocol, 'owa');
    const closed = seen.connectionClosed.find((e) => e.connection === conn)!;
    assert.equal(closed.cause, 'client-finished', 'the client ended its side between exchanges');
    assert.equal(closed.user, 'LAB\\alice');
    assert.equal(closed.proven, true);
    assert.equal(closed.requests, 2);
    assert.ok(closed.bytesIn > 0 && closed.bytesOut > 0);
    assert.deepEqual(closed.pinned, { protocol: 'owa' });
    assert.ok(seen.upstreamConnected.some((e) => e.connection === conn && e.connectMs >= 0));
  });

  it('carol refused at the NTLM step: the claimed user is on the decision, the login failure and the request record', async () => {
    const { r, c } = await ntlm(env, '/EWS/Exchange.asmx', 'carol');
    assert.equal(r.head.status, 401, 'concealed: the client sees an anonymous answer');
    c.close();
    await settle();
    const { seen } = rec;
    const failed = seen.loginFailed.find((e) => e.claimedUser === 'LAB\\carol')!;
    assert.ok(failed, 'login failure recorded');
    assert.equal(failed.scheme, 'NTLM');
    assert.equal(failed.outcome, 'denied');
    assert.equal(failed.clientIp, '127.0.0.1');
    const decision = seen.gateDecision.find((e) => e.connection === failed.connection && !e.allow)!;
    assert.equal(decision.concealed, true);
    assert.equal(decision.user, 'LAB\\carol');
    assert.ok(decision.decision.reasons.length > 0);
    const ended = seen.requestEnded.find((e) => e.connection === failed.connection && e.concealed)!;
    assert.equal(ended.user, 'LAB\\carol', 'the user is named on a denial before the password was checked');
  });

  it('a wrong password refused by Exchange is a login failure with the claimed user', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    const r = await c.request('GET', '/owa/', { Authorization: basic('LAB\\bob', 'wrong') });
    assert.equal(r.head.status, 401);
    c.close();
    await settle();
    const f = rec.seen.loginFailed.find((e) => e.claimedUser === 'LAB\\bob' && e.outcome === 'refused-by-exchange');
    assert.ok(f, 'refused-by-exchange recorded');
    assert.equal(f.user, 'LAB\\bob');
    assert.equal(f.scheme, 'Basic');
  });

  it('an explicit refusal: reasons, reference id, client address on the request record', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    const r = await c.request('GET', '/ecp/', {});
    assert.equal(r.head.status, 403);
    await settle();
    const e = rec.seen.requestEnded.find((x) => x.path === '/ecp/')!;
    assert.equal(e.refused, true);
    assert.deepEqual(e.reasons, ['protocol-blocked-in-zone']);
    assert.equal(e.ref, r.header('x-portcullis-ref'));
    assert.equal(e.clientIp, '127.0.0.1');
    const d = rec.seen.gateDecision.find((x) => x.connection === e.connection)!;
    assert.equal(d.gate, 'zone');
    assert.equal(d.allow, false);
    const closed = rec.seen.connectionClosed.find((x) => x.connection === e.connection)!;
    assert.equal(closed.cause, 'refused');
  });

  it('an Autodiscover answer the gateway rewrote is recorded with the bytes the client got', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    const body = `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>alice@lab.example</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;
    const r = await c.request('POST', '/autodiscover/autodiscover.xml', { Authorization: basic('LAB\\alice'), 'Content-Type': 'text/xml' }, body);
    assert.equal(r.head.status, 200);
    c.close();
    await settle();
    const e = rec.seen.requestEnded.find((x) => x.protocol === 'autodiscover' && x.status === 200)!;
    assert.equal(e.responseBytes, r.body.length, 'not 0: the rewritten body is counted');
    assert.equal(e.requestBytes, body.length);
  });

  it('a revocation keeps its actor and reason text, and names how many connections it closed', async () => {
    const { c } = await ntlm(env, '/owa/', 'bob');
    const res = await fetch(`${env.runtime.admin!.url}/api/revoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\bob', reason: 'laptop stolen (ticket 4711)', actor: 'jdoe' }) });
    assert.equal(res.status, 200);
    await c.waitClosed(2000);
    await settle();
    const ev = rec.seen.userRevoked.at(-1)!;
    assert.equal(ev.user, 'LAB\\bob');
    assert.equal(ev.reason, 'laptop stolen (ticket 4711)');
    assert.equal(ev.actor, 'admin:jdoe');
    assert.equal(ev.connectionsClosed, 1);
    const closed = rec.seen.connectionClosed.find((x) => x.user === 'LAB\\bob' && x.cause === 'access-withdrawn');
    assert.ok(closed, 'the closed connection says why');
    assert.match(closed.detail ?? '', /revoked/);
    await fetch(`${env.runtime.admin!.url}/api/unrevoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\bob' }) });
    assert.deepEqual(
      rec.seen.userUnrevoked.map((e) => [e.user, e.actor, e.existed]),
      [['LAB\\bob', 'admin', true]],
    );
  });

  it('a reload is recorded with its trigger; a refused one with its problems', async () => {
    assert.ok(await env.runtime.reload('api'));
    assert.equal(rec.seen.configReloaded.at(-1)!.trigger, 'api');
    const { writeFileSync, readFileSync } = await import('node:fs');
    const good = readFileSync(env.configFile, 'utf8');
    writeFileSync(env.configFile, `${good}\nbogus: [\n`);
    assert.equal(await env.runtime.reload('signal'), false);
    writeFileSync(env.configFile, good);
    const refused = rec.seen.reloadRefused.at(-1)!;
    assert.equal(refused.trigger, 'signal');
    assert.equal(refused.stage, 'config');
    assert.ok(refused.problems.length > 0);
  });
});
