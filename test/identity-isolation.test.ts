import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Env, startEnv } from './helpers/env.js';
import { RawClient } from '../src/doctor/http-probe.js';
import { ntlmLogin } from '../src/doctor/ntlm-client.js';

describe('identity isolation under concurrency', () => {
  let env: Env;
  before(async () => {
    // Internal zone: all four users may connect, so every response is a real one from the lab.
    // 200 upstream TLS handshakes at once in one process: allow them more than the usual 2 s.
    env = await startEnv({ config: (b) => ({ ...b, listeners: [{ ...(b.listeners as object[])[0], zone: 'internal' }], upstream: { ...(b.upstream as object), connectTimeout: '15s' } }) });
  });
  after(() => env.stop());

  it('200 concurrent NTLM connections of four users: every response carries its own connection\'s user', async () => {
    const users = ['alice', 'bob', 'carol', 'dave'];
    const ROUNDS = 5;
    let mismatches = 0;
    let responses = 0;
    const clients = await Promise.all(Array.from({ length: 200 }, () => RawClient.connect(env.port, env.pki.ca)));
    await Promise.all(
      clients.map(async (c, i) => {
        const user = users[i % users.length]!;
        const first = await ntlmLogin(c, `/owa/${user}/0`, user, 'LAB', 'Passw0rd!');
        responses++;
        if (first.header('x-lab-identity') !== `LAB\\${user}`) mismatches++;
        for (let k = 1; k <= ROUNDS; k++) {
          // Interleave: yield so requests of different users cross on the event loop.
          await new Promise((r) => setImmediate(r));
          const r = await c.request('POST', `/EWS/Exchange.asmx`, { 'Content-Type': 'text/xml' }, `<x k="${k}"/>`);
          responses++;
          if (r.header('x-lab-identity') !== `LAB\\${user}`) mismatches++;
        }
        c.close();
      }),
    );
    console.log(`# identity isolation: ${responses} responses on 200 connections, ${mismatches} mismatches`);
    assert.equal(responses, 200 * (ROUNDS + 1));
    assert.equal(mismatches, 0);
    // Strict 1:1 pinning: the lab saw exactly one connection per client connection.
    const labConns = new Set(env.lab.state.log.map((e) => e.connection));
    assert.equal(labConns.size, 200);
  });
});
