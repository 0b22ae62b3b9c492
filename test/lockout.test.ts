import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Env, adminHeaders, startEnv } from './helpers/env.js';
import { RawClient } from '../src/doctor/http-probe.js';
import { NEGOTIATE, authenticateFor } from '../src/doctor/ntlm-client.js';

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

describe('smart lockout', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({
      config: (b) => {
        const [ext] = b.listeners as Array<Record<string, unknown>>;
        return { ...b, listeners: [ext, { ...ext, name: 'internal', zone: 'internal' }], lockout: { threshold: 3, window: '15m', cooldown: '15m' } };
      },
    });
  });
  after(() => env.stop());

  it('after N failed external logins nothing more is forwarded, the right password included; inside is unaffected', async () => {
    for (let i = 0; i < 3; i++) assert.equal(await ntlmAttempt(env.port, env.pki.ca, 'wrong-password'), 401);
    const type3sBefore = env.lab.state.log.filter((e) => e.authorization === 'NTLM type 3').length;
    const blocked = await ntlmAttempt(env.port, env.pki.ca, 'Passw0rd!');
    assert.equal(blocked, 401, 'refused the way a wrong password is (concealed)');
    const type3sAfter = env.lab.state.log.filter((e) => e.authorization === 'NTLM type 3').length;
    assert.equal(type3sAfter, type3sBefore, 'the AUTHENTICATE of a locked-out user never reaches Exchange');
    const lockouts = (await (await fetch(`${env.runtime.admin!.url}/api/lockouts`, { headers: adminHeaders(env) })).json()) as Array<{ key: string; lockedUntil?: number }>;
    assert.ok(lockouts.some((l) => l.key === 'LAB\\alice' && l.lockedUntil));
    const explain = (await (await fetch(`${env.runtime.admin!.url}/api/explain`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\alice', protocol: 'owa', zone: 'external' }) })).json()) as { lockedOut: boolean; decision: { reasons: string[] } };
    assert.equal(explain.lockedOut, true);
    assert.deepEqual(explain.decision.reasons, ['locked-out']);
    assert.equal(await ntlmAttempt(env.gateway.listeners[1]!.port, env.pki.ca, 'Passw0rd!'), 200, 'the internal zone is not locked');
  });
});
