// Issue #13: behind a PROXY-protocol load balancer, smart lockout and zones follow the real client.
// The balancer (127.0.0.1) sits in an internal range; a client it relays from outside is external,
// so its wrong passwords count and lock the user, while the same user relayed from an internal
// address is not locked (lockout applies to the external zone only).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawClient } from '../src/doctor/http-probe.js';
import { NEGOTIATE, authenticateFor } from '../src/doctor/ntlm-client.js';
import { type Env, adminHeaders, startEnv } from './helpers/env.js';
import { type ProxyRelay, startProxyRelay } from './helpers/proxy-relay.js';

async function ntlmAttempt(port: number, ca: string, password: string): Promise<number> {
  const c = await RawClient.connect(port, ca);
  try {
    const r1 = await c.request('GET', '/owa/', { Authorization: `NTLM ${NEGOTIATE.toString('base64')}` });
    const challenge = /^NTLM (\S+)/.exec(r1.header('www-authenticate') ?? '')?.[1];
    if (!challenge) return r1.head.status;
    return (await c.request('GET', '/owa/', { Authorization: `NTLM ${await authenticateFor(challenge, 'alice', 'LAB', password)}` })).head.status;
  } finally {
    c.close();
  }
}

describe('lockout and zones through the PROXY protocol', () => {
  let env: Env;
  let relay: ProxyRelay;
  before(async () => {
    env = await startEnv({
      config: (b) => ({
        ...b,
        listeners: (b['listeners'] as Array<Record<string, unknown>>).map((l) => ({
          ...l,
          proxyProtocol: true,
          proxySources: ['127.0.0.1/32'],
          clientZones: [{ cidr: '127.0.0.0/8', zone: 'internal' }],
        })),
        lockout: { threshold: 3, window: '15m', cooldown: '15m' },
      }),
    });
    relay = await startProxyRelay(env.port, '203.0.113.7');
  });
  after(async () => {
    await relay.stop();
    await env.stop();
  });

  it('wrong passwords from an outside client lock the user externally; the same user from inside is not locked', async () => {
    for (let i = 0; i < 3; i++) assert.equal(await ntlmAttempt(relay.port, env.pki.ca, 'wrong-password'), 401);
    const type3s = () => env.lab.state.log.filter((e) => e.authorization === 'NTLM type 3').length;
    const before = type3s();
    assert.equal(await ntlmAttempt(relay.port, env.pki.ca, 'Passw0rd!'), 401, 'locked: refused as a wrong password is');
    assert.equal(type3s(), before, 'the AUTHENTICATE never reached Exchange');
    const lockouts = (await (await fetch(`${env.runtime.admin!.url}/api/lockouts`, { headers: adminHeaders(env) })).json()) as Array<{ key: string; lockedUntil?: number }>;
    assert.ok(lockouts.some((l) => l.key === 'LAB\\alice' && l.lockedUntil));
    relay.client = '127.0.0.9';
    assert.equal(await ntlmAttempt(relay.port, env.pki.ca, 'Passw0rd!'), 200, 'inside (by the real address) is not locked');
  });

  it('the connection view shows the real client and its zone', async () => {
    relay.client = '203.0.113.8';
    const c = await RawClient.connect(relay.port, env.pki.ca);
    await c.request('GET', '/owa/', {});
    const views = (await (await fetch(`${env.runtime.admin!.url}/api/connections`, { headers: adminHeaders(env) })).json()) as Array<{ client: string; zone: string }>;
    assert.ok(views.some((v) => v.client === '203.0.113.8' && v.zone === 'external'), JSON.stringify(views));
    c.close();
  });
});
