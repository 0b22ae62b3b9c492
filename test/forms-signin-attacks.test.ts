// Exchange's forms-based sign-in is not a way in past the gateway (found by an outside attack):
// a password posted to /owa/auth.owa would reach Exchange without lockout or policy, and a cadata
// cookie beside another user's Basic made Exchange answer as the cookie's user while the gateway
// had checked the other one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawClient } from '../src/doctor/http-probe.js';
import { type Env, startEnv } from './helpers/env.js';

const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const carolsForm = new URLSearchParams({ destination: 'https://mail.lab.example/owa/', flags: '4', username: 'LAB\\carol', password: 'Passw0rd!' }).toString();

async function send(port: number, ca: string, method: string, path: string, headers: Record<string, string>, body?: string, servername?: string) {
  const c = await RawClient.connect(port, ca, servername);
  try {
    return await c.request(method, path, headers, body);
  } finally {
    c.close();
  }
}

/** carol's Exchange session, got from the lab itself (as a phished or leaked cookie would be). */
async function carolsCadata(env: Env): Promise<string> {
  const r = await send(Number(new URL(env.lab.url).port), env.pki.ca, 'POST', '/owa/auth.owa', FORM, carolsForm, 'localhost');
  assert.equal(r.head.status, 302);
  const cookies = r.head.headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value.split(';')[0]!);
  assert.ok(cookies.some((c) => c.startsWith('cadata')), 'the lab signed carol in');
  return cookies.join('; ');
}

describe("Exchange's forms sign-in through the gateway", () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ lab: { forms: ['owa', 'ecp'] } });
  });
  after(() => env.stop());

  it('a password posted to auth.owa never reaches Exchange, whatever Authorization comes with it, in any spelling of the path', async () => {
    const before = env.lab.state.log.length;
    for (const auth of [undefined, 'Foo bar', 'Bearer x', basic('x', 'y'), basic('LAB\\bob')]) {
      for (const path of ['/owa/auth.owa', '/OWA/Auth.owa', '/owa/%61uth.owa', '/owa/./auth.owa', '/owa/auth/owaauth.dll', '/ecp/auth.owa']) {
        const r = await send(env.port, env.pki.ca, 'POST', path, { ...FORM, ...(auth ? { Authorization: auth } : {}) }, carolsForm);
        assert.equal(r.head.status, 403, `${path} with ${auth}`);
        // ECP is blocked in this zone before its path is looked at: refused either way.
        assert.ok(['forms-signin-refused', ...(path.startsWith('/ecp') ? ['protocol-blocked-in-zone'] : [])].includes(r.header('x-portcullis-reason')!), `${path} with ${auth}`);
        assert.ok(!r.head.headers.some((h) => h.name.toLowerCase() === 'set-cookie'), 'no Exchange session handed out');
      }
    }
    assert.deepEqual(env.lab.state.log.slice(before).map((e) => e.path), [], 'Exchange saw none of them');
  });

  it("a cadata cookie beside bob's Basic is taken out: Exchange answers as bob, the user the gateway checked", async () => {
    const cadata = await carolsCadata(env);
    const variants = [cadata, cadata.replace(/cadata/g, 'CADATA'), cadata.replace(/cadata/g, ' cadata'), cadata.replace(/cadata/g, 'cad%61ta'), `theme=dark; ${cadata}; x=1`];
    for (const cookie of variants) {
      const before = env.lab.state.log.length;
      const r = await send(env.port, env.pki.ca, 'GET', '/owa/', { Authorization: basic('LAB\\bob'), Cookie: cookie });
      assert.equal(r.head.status, 200, cookie);
      assert.equal(r.header('x-lab-identity'), 'LAB\\bob', cookie);
      const seen = env.lab.state.log.slice(before);
      assert.ok(seen.length > 0 && seen.every((e) => !(e.cookies ?? []).some((c) => /^\s*cad(ata|%61ta)/i.test(c))), `Exchange saw no cadata cookie: ${JSON.stringify(seen.map((e) => e.cookies))}`);
    }
    const kept = env.lab.state.log.at(-1)!;
    assert.deepEqual(kept.cookies, ['theme', 'X-OWA-CANARY', 'msExchEcpCanary', 'x'], 'the other cookies pass (the canaries are no credential)');
  });
});

describe("Exchange's forms sign-in where the gateway signs browsers in", () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ lab: { forms: ['owa', 'ecp'] }, config: (b) => ({ ...b, signin: { zones: ['external'] } }) });
  });
  after(() => env.stop());

  it("auth.owa sends the browser to the gateway's sign-in page, with or without an Authorization header; Exchange sees nothing", async () => {
    const before = env.lab.state.log.length;
    for (const auth of [undefined, 'Bearer x', basic('LAB\\bob')]) {
      const r = await send(env.port, env.pki.ca, 'POST', '/owa/auth.owa', { ...FORM, ...(auth ? { Authorization: auth } : {}) }, carolsForm);
      assert.equal(r.head.status, 302, String(auth));
      assert.match(r.header('location')!, /^\/owa\/auth\/portcullis\/signin\?destination=/);
    }
    assert.equal(env.lab.state.log.length, before);
  });
});
