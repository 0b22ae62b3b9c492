// Browser sign-in at the gateway (issue #15), attacker first, on real sockets: the lab speaks
// Exchange's forms-based sign-in, the gateway signs browsers in itself and keeps Exchange's
// session away from them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawClient } from '../src/doctor/http-probe.js';
import { ntlmLogin } from '../src/doctor/ntlm-client.js';
import { DEMO_POLICY, type Env, adminHeaders, startEnv } from './helpers/env.js';
import { TestBrowser, secondFactorSection, totpCode } from './helpers/signin-browser.js';

const SESSION = '__Host-portcullis-session';
const SIGNIN = { zones: ['external'], failureTime: '150ms' };

function signinEnv(extra: Record<string, unknown> = {}, signin: Record<string, unknown> = SIGNIN): Promise<Env> {
  return startEnv({
    lab: { forms: ['owa', 'ecp'] },
    // dave may use OWA here too: the lockout test needs a user no other test signs in as.
    config: (b) => ({ ...b, signin, lockout: { threshold: 3 }, policy: { ...DEMO_POLICY, rules: [...DEMO_POLICY.rules, { name: 'dave-owa', effect: 'allow', zones: ['external'], protocols: ['owa'], users: ['LAB\\dave'] }] }, ...extra }),
  });
}

/** Exchange's CSRF tokens, which its pages' scripts read: the browser holds them, and nothing else of Exchange's. */
const CANARY = /^(X-OWA-CANARY|msExchEcpCanary)$/;

/** Everything of Exchange's session that must stay in the gateway. */
function assertNoExchangeCookies(b: TestBrowser): void {
  for (const a of b.answers) {
    for (const sc of a.setCookies()) {
      if (CANARY.test(sc.split('=')[0]!)) assert.doesNotMatch(sc, /HttpOnly/i, "a canary its pages' scripts must read");
      else assert.match(sc, /^__Host-portcullis-/, `a Set-Cookie reached the browser: ${sc.split('=')[0]}`);
    }
  }
  for (const name of b.jar.keys()) assert.ok(name.startsWith('__Host-portcullis-') || CANARY.test(name), `the browser holds ${name}`);
}

describe('browser sign-in at the gateway', () => {
  let env: Env;
  before(async () => {
    env = await signinEnv();
  });
  after(() => env?.stop());

  it('alice signs in and reaches the lab\'s OWA as LAB\\alice; Exchange\'s cookies never reach the browser, the gateway\'s never reach Exchange', async () => {
    const b = new TestBrowser(env.port, env.pki.ca);
    const first = await b.request('GET', '/owa/');
    assert.equal(first.status, 302);
    assert.equal(first.header('location'), '/owa/auth/portcullis/signin?destination=%2Fowa%2F');
    const page = await b.request('GET', first.header('location')!);
    assert.equal(page.status, 200);
    assert.match(page.header('content-security-policy')!, /default-src 'none'; script-src 'self'/);
    assert.doesNotMatch(page.body, /<script>|\sstyle=|\son[a-z]+=/i, 'no inline script or style');
    assert.match(page.body, /<label for="username">/);
    const posted = await b.request('POST', '/owa/auth/portcullis/signin', { form: { csrf: TestBrowser.csrfOf(page), destination: '/owa/', username: 'LAB\\alice', password: 'Passw0rd!' } });
    assert.equal(posted.status, 302);
    assert.equal(posted.header('location'), '/owa/');
    const cookie = posted.setCookies().find((c) => c.startsWith(`${SESSION}=`))!;
    assert.match(cookie, /; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    const owa = await b.request('GET', '/owa/');
    assert.equal(owa.status, 200);
    assert.equal(owa.header('x-lab-identity'), 'LAB\\alice');
    assertNoExchangeCookies(b);
    const seen = env.lab.state.log.filter((e) => e.path === '/owa/' && e.identity === 'LAB\\alice').at(-1)!;
    assert.ok(seen.cookies?.includes('cadata'), 'Exchange got its own session cookie');
    assert.ok(!seen.cookies?.some((c) => c.startsWith('__Host-portcullis')), "the gateway's cookies never reach Exchange");
  });

  it("Exchange's CSRF check stays Exchange's: the browser gets the canaries its pages echo, a POST without them is refused by Exchange", async () => {
    const b = new TestBrowser(env.port, env.pki.ca);
    assert.equal((await b.signIn('LAB\\alice', 'Passw0rd!')).status, 302);
    const owa = await b.request('GET', '/owa/');
    assert.equal(owa.status, 200);
    const canary = b.jar.get('X-OWA-CANARY');
    const ecpCanary = b.jar.get('msExchEcpCanary');
    assert.ok(canary && ecpCanary, `the browser holds both canaries: ${[...b.jar.keys()].join(', ')}`);
    assert.equal((await b.request('GET', '/owa/')).setCookies().length, 0, 'given once, not on every answer');
    const service = '/owa/service.svc?action=GetFolder';
    assert.equal((await b.request('POST', service, { headers: { 'X-OWA-CANARY': canary } })).status, 200, "OWA's script echoes the cookie: Exchange accepts");
    // A page of another site can make the browser send its cookies, but cannot read the canary.
    assert.equal((await b.request('POST', service)).status, 449, 'no header: Exchange refuses (the gateway no longer makes the header itself)');
    assert.equal((await b.request('POST', service, { headers: { 'X-OWA-CANARY': 'X-OWA-CANARY_cookie_is_null_or_empty' } })).status, 449);
    b.jar.set('X-OWA-CANARY', 'forged');
    const forged = await b.request('POST', service, { headers: { 'X-OWA-CANARY': 'forged' } });
    assert.equal(forged.status, 449, "a canary cookie the browser makes up does not replace Exchange's");
    assert.ok(forged.setCookies().some((c) => c.startsWith(`X-OWA-CANARY=${canary};`)), 'and the real one is given back');
  });

  it('a UPN signs in too, to the same user', async () => {
    const b = new TestBrowser(env.port, env.pki.ca);
    assert.equal((await b.signIn('alice@lab.example', 'Passw0rd!')).status, 302);
    assert.equal((await b.request('GET', '/owa/')).header('x-lab-identity'), 'LAB\\alice');
  });

  it('a forged or signed-out session cookie is refused before anything reaches Exchange', async () => {
    const before = env.lab.state.log.length;
    const b = new TestBrowser(env.port, env.pki.ca);
    b.jar.set(SESSION, 'A'.repeat(43));
    const forged = await b.request('GET', '/owa/');
    assert.equal(forged.status, 302);
    assert.match(forged.header('location')!, /^\/owa\/auth\/portcullis\/signin\?/);
    assert.ok(forged.setCookies().some((c) => c.startsWith(`${SESSION}=;`)), 'the bad cookie is cleared');
    assert.equal(env.lab.state.log.length, before, 'nothing reached Exchange');
    // An old cookie: signed out, then presented again.
    const alice = new TestBrowser(env.port, env.pki.ca);
    await alice.signIn('LAB\\alice', 'Passw0rd!');
    const old = alice.jar.get(SESSION)!;
    await alice.request('GET', '/owa/logoff.owa');
    const replay = new TestBrowser(env.port, env.pki.ca);
    replay.jar.set(SESSION, old);
    assert.equal((await replay.request('GET', '/owa/')).status, 302);
  });

  it('session fixation: a cookie the attacker chose before sign-in is not the session after it', async () => {
    const b = new TestBrowser(env.port, env.pki.ca);
    const planted = 'planted-by-the-attacker-0123456789abcdefghij';
    b.jar.set(SESSION, planted);
    const r = await b.signIn('LAB\\alice', 'Passw0rd!');
    assert.equal(r.status, 302);
    assert.notEqual(b.jar.get(SESSION), planted);
    const attacker = new TestBrowser(env.port, env.pki.ca);
    attacker.jar.set(SESSION, planted);
    const a = await attacker.request('GET', '/owa/');
    assert.equal(a.status, 302, 'the planted value is no session');
    assert.equal((await b.request('GET', '/owa/')).header('x-lab-identity'), 'LAB\\alice');
  });

  it("a cookie for alice on a connection pinned to bob's NTLM identity is refused", async () => {
    const alice = new TestBrowser(env.port, env.pki.ca);
    await alice.signIn('LAB\\alice', 'Passw0rd!');
    const c = await RawClient.connect(env.port, env.pki.ca);
    try {
      const bob = await ntlmLogin(c, '/owa/', 'bob', 'LAB', 'Passw0rd!');
      assert.equal(bob.header('x-lab-identity'), 'LAB\\bob');
      const labBefore = env.lab.state.log.length;
      const r = await c.request('GET', '/owa/', { Cookie: `${SESSION}=${alice.jar.get(SESSION)}` });
      assert.equal(r.head.status, 403);
      assert.equal(r.header('x-portcullis-reason'), 'identity-mismatch');
      assert.equal(env.lab.state.log.length, labBefore);
    } finally {
      c.close();
    }
  });

  it("another user's session cookie on a connection alice's session already used is refused", async () => {
    const alice = new TestBrowser(env.port, env.pki.ca);
    await alice.signIn('LAB\\alice', 'Passw0rd!');
    const bob = new TestBrowser(env.port, env.pki.ca);
    await bob.signIn('LAB\\bob', 'Passw0rd!');
    const c = await RawClient.connect(env.port, env.pki.ca);
    try {
      assert.equal((await alice.request('GET', '/owa/', { client: c })).header('x-lab-identity'), 'LAB\\alice');
      const labBefore = env.lab.state.log.length;
      const r = await bob.request('GET', '/owa/', { client: c });
      assert.equal(r.status, 403);
      assert.equal(r.header('x-portcullis-reason'), 'identity-mismatch');
      assert.equal(env.lab.state.log.length, labBefore);
    } finally {
      c.close();
    }
  });

  it('carol (not allowed), an unknown user and a wrong password get the same page, apart from the form token, no sooner than failureTime', async () => {
    const bodies: string[] = [];
    for (const [user, pw] of [['LAB\\carol', 'Passw0rd!'], ['LAB\\nobody', 'Passw0rd!'], ['LAB\\alice', 'wrong-password']] as const) {
      const b = new TestBrowser(env.port, env.pki.ca);
      const t0 = Date.now();
      const r = await b.signIn(user, pw);
      const took = Date.now() - t0;
      assert.equal(r.status, 200, user);
      assert.ok(took >= 140, `${user} answered in ${took} ms`);
      assert.equal(b.jar.has(SESSION), false);
      const setCookies = r.setCookies().map((c) => c.replace(/=[^;]+/, '=TOKEN'));
      bodies.push(JSON.stringify({ body: r.body.replace(/name="csrf" value="[^"]+"/, 'TOKEN'), headers: r.headers.filter((h) => h.name !== 'Set-Cookie'), setCookies }));
    }
    assert.equal(bodies[0], bodies[1]);
    assert.equal(bodies[1], bodies[2]);
    assert.match(bodies[0]!, /role=\\"alert\\"/);
    // The reason is on the record, with the user as claimed.
    await new Promise((r) => setTimeout(r, 500));
    const store = env.runtime.audit!.writer.store;
    const reasonsOf = async (user: string) => (await store.query({ user, decision: 'deny' })).filter((r) => r.scheme === 'forms').map((r) => r.reasons?.join(','));
    assert.deepEqual(await reasonsOf('LAB\\carol'), ['not-in-group,default-deny']);
    assert.deepEqual(await reasonsOf('LAB\\nobody'), ['unknown-user']);
    assert.ok((await reasonsOf('LAB\\alice')).includes('bad-password'));
  });

  it('smart lockout: after threshold wrong passwords at the sign-in page the right one is refused too, and Exchange saw only threshold attempts', async () => {
    const posts = () => env.lab.state.log.filter((e) => e.path === '/owa/auth.owa').length;
    const before = posts();
    for (let i = 0; i < 3; i++) assert.equal((await new TestBrowser(env.port, env.pki.ca).signIn('LAB\\dave', `wrong-${i}`)).status, 200);
    const right = new TestBrowser(env.port, env.pki.ca);
    const r = await right.signIn('LAB\\dave', 'Passw0rd!');
    assert.equal(r.status, 200);
    assert.equal(right.jar.has(SESSION), false);
    assert.equal(posts() - before, 3);
    assert.equal(env.runtime.authority!.users.isLockedOut('LAB\\dave'), true);
  });

  it("revoking alice ends her session (and Exchange's) and closes her live connection; her next request is refused", async () => {
    const b = new TestBrowser(env.port, env.pki.ca);
    await b.signIn('LAB\\alice', 'Passw0rd!');
    const alices = () => [...env.lab.state.formsSessions.values()].filter((u) => u === 'LAB\\alice').length;
    const exchangeBefore = alices();
    const live = await RawClient.connect(env.port, env.pki.ca);
    const first = await b.request('GET', '/owa/', { client: live });
    assert.equal(first.header('x-lab-identity'), 'LAB\\alice');
    const res = await fetch(`${env.runtime.admin!.url}/api/revoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\alice', reason: 'test' }) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { closedConnections: number };
    assert.ok(body.closedConnections >= 1);
    for (let i = 0; i < 50 && !live.closed; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(live.closed, true, 'the live connection was closed');
    const owaRequests = () => env.lab.state.log.filter((e) => e.path === '/owa/').length;
    const labBefore = owaRequests();
    const next = await b.request('GET', '/owa/');
    assert.equal(next.status, 302);
    assert.match(next.header('location')!, /signin/);
    assert.equal(owaRequests(), labBefore, 'the request never reached Exchange');
    assert.ok(exchangeBefore >= 1);
    for (let i = 0; i < 150 && alices() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(alices(), 0, 'every Exchange session of hers was signed out with the revocation');
    await fetch(`${env.runtime.admin!.url}/api/unrevoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\alice' }) });
    const again = new TestBrowser(env.port, env.pki.ca);
    b.jar.clear();
    assert.equal((await again.signIn('LAB\\alice', 'Passw0rd!')).status, 302);
  });

  it('a revocation lifted before her next request does not bring an old session back', async () => {
    const b = new TestBrowser(env.port, env.pki.ca);
    await b.signIn('LAB\\bob', 'Passw0rd!');
    const admin = env.runtime.admin!.url;
    assert.equal((await fetch(`${admin}/api/revoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\bob', reason: 'test' }) })).status, 200);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await fetch(`${admin}/api/unrevoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\bob' }) })).status, 200);
    const r = await b.request('GET', '/owa/');
    assert.equal(r.status, 302, 'the session ended with the revocation');
    assert.match(r.header('location')!, /signin/);
  });

  it("signing out ends the lab's session too", async () => {
    const b = new TestBrowser(env.port, env.pki.ca);
    await b.signIn('LAB\\bob', 'Passw0rd!');
    assert.equal((await b.request('GET', '/owa/')).header('x-lab-identity'), 'LAB\\bob');
    const bobs = () => [...env.lab.state.formsSessions.values()].filter((u) => u === 'LAB\\bob').length;
    const before = bobs();
    assert.ok(before >= 1);
    const out = await b.request('GET', '/owa/logoff.owa');
    assert.equal(out.status, 200);
    assert.match(out.body, /You have signed out/);
    assert.equal(bobs(), before - 1, "Exchange's session ended");
    assert.equal(b.jar.has(SESSION), false);
    assert.equal((await b.request('GET', '/owa/')).status, 302);
    assertNoExchangeCookies(b);
  });

  it('the sign-in page is no open redirect', async () => {
    for (const dest of ['https://evil.example/owa/', '//evil.example/owa/', '/%2f%2fevil.example/', '/\\evil.example', '/owa/../../evil', 'javascript:alert(1)']) {
      const b = new TestBrowser(env.port, env.pki.ca);
      const page = await b.request('GET', `/owa/auth/portcullis/signin?destination=${encodeURIComponent(dest)}`);
      assert.match(page.body, /name="destination" value="\/owa\/"/, dest);
      const r = await b.request('POST', '/owa/auth/portcullis/signin', { form: { csrf: TestBrowser.csrfOf(page), destination: dest, username: 'LAB\\alice', password: 'Passw0rd!' } });
      assert.equal(r.header('location'), '/owa/', dest);
    }
  });

  it('a sign-in form without its token (CSRF) is refused and nothing is checked', async () => {
    const posts = env.lab.state.log.filter((e) => e.path === '/owa/auth.owa').length;
    const b = new TestBrowser(env.port, env.pki.ca);
    await b.request('GET', '/owa/auth/portcullis/signin');
    const missing = await b.request('POST', '/owa/auth/portcullis/signin', { form: { destination: '/owa/', username: 'LAB\\alice', password: 'Passw0rd!' } });
    assert.equal(missing.status, 403);
    const other = new TestBrowser(env.port, env.pki.ca);
    const forged = await other.request('POST', '/owa/auth/portcullis/signin', { form: { csrf: 'x'.repeat(43), destination: '/owa/', username: 'LAB\\alice', password: 'Passw0rd!' } });
    assert.equal(forged.status, 403);
    assert.equal(b.jar.has(SESSION) || other.jar.has(SESSION), false);
    assert.equal(env.lab.state.log.filter((e) => e.path === '/owa/auth.owa').length, posts);
  });

  it("clients with credentials are served as before (NTLM), and a health probe from outside does not pass by default", async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    try {
      assert.equal((await ntlmLogin(c, '/owa/', 'alice', 'LAB', 'Passw0rd!')).header('x-lab-identity'), 'LAB\\alice');
    } finally {
      c.close();
    }
    const probe = await new TestBrowser(env.port, env.pki.ca).request('GET', '/owa/healthcheck.htm');
    assert.equal(probe.status, 403);
    assert.equal(probe.header('x-portcullis-reason'), 'unauthenticated-answer');
  });
});

describe('browser sign-in: second factor and health probes', () => {
  let env: Env;
  before(async () => {
    // The real second factor (src/signin/second-factor-service.ts), its store beside the state store.
    env = await signinEnv(
      {
        policy: {
          ...DEMO_POLICY,
          healthProbes: ['external'],
          rules: [...DEMO_POLICY.rules, { name: 'owa-second-factor-outside', effect: 'allow', zones: ['external'], protocols: ['owa'], groups: ['Outlook-Remote'], secondFactor: 'required' }],
        },
      },
      { ...SIGNIN, secondFactor: secondFactorSection(), addPasskeyWithin: '1500ms' },
    );
  });
  after(() => env?.stop());

  it('anonymous health probes pass where policy.healthProbes says', async () => {
    for (const p of ['/owa/healthcheck.htm', '/ews/healthcheck.htm', '/mapi/healthcheck.htm']) {
      const r = await new TestBrowser(env.port, env.pki.ca).request('GET', p);
      assert.equal(r.status, 200, p);
      assert.match(r.body, /^200 OK/);
    }
  });

  it('alice enrols TOTP at her first sign-in; until then nothing reaches Exchange; the session id changes; a replayed code is refused', async () => {
    const b = new TestBrowser(env.port, env.pki.ca);
    const r = await b.signIn('LAB\\alice', 'Passw0rd!');
    assert.equal(r.header('location'), '/owa/auth/portcullis/second-factor');
    const waiting = b.jar.get(SESSION)!;
    const labBefore = env.lab.state.log.filter((e) => e.path === '/owa/').length;
    const early = await b.request('GET', '/owa/');
    assert.equal(early.status, 302);
    assert.equal(early.header('location'), '/owa/auth/portcullis/second-factor');
    assert.equal(env.lab.state.log.filter((e) => e.path === '/owa/').length, labBefore);
    const enrol = await b.request('GET', '/owa/auth/portcullis/second-factor');
    assert.match(enrol.body, /id="totp-secret">[A-Z2-7]{16,}</);
    assert.match(enrol.body, /<img class="qr" src="data:image\/svg\+xml;base64,/);
    const token = TestBrowser.csrfOf(enrol);
    const bad = await b.request('POST', '/owa/auth/portcullis/second-factor', { form: { csrf: token, mode: 'enrol', code: (Number(await totpCode(enrol.body)) ^ 1).toString().padStart(6, '0') } });
    assert.equal(bad.status, 200);
    assert.match(bad.body, /not right/);
    // A wrong code during enrolment starts over with a new key: the code comes from the page now shown.
    const code = await totpCode(bad.body);
    const ok = await b.request('POST', '/owa/auth/portcullis/second-factor', { form: { csrf: token, mode: 'enrol', code } });
    assert.equal(ok.status, 302);
    assert.equal(ok.header('location'), '/owa/');
    assert.notEqual(b.jar.get(SESSION), waiting, 'a new session id once the factor is given');
    assert.equal((await b.request('GET', '/owa/')).header('x-lab-identity'), 'LAB\\alice');
    const stale = new TestBrowser(env.port, env.pki.ca);
    stale.jar.set(SESSION, waiting);
    assert.equal((await stale.request('GET', '/owa/')).status, 302, 'the waiting session is gone');
    // Next sign-in: the same code again is a replay.
    const c = new TestBrowser(env.port, env.pki.ca);
    await c.signIn('LAB\\alice', 'Passw0rd!');
    const form = await c.request('GET', '/owa/auth/portcullis/second-factor');
    assert.doesNotMatch(form.body, /totp-secret/, "enrolled: no new key");
    const replay = await c.request('POST', '/owa/auth/portcullis/second-factor', { form: { csrf: TestBrowser.csrfOf(form), mode: 'code', code } });
    assert.equal(replay.status, 200);
    assert.match(replay.body, /already used/);
    assert.equal((await c.request('GET', '/owa/')).status, 302);
    // The next time step's code (the service accepts one step either way): never used, so accepted.
    const fresh = await c.request('POST', '/owa/auth/portcullis/second-factor', { form: { csrf: TestBrowser.csrfOf(form), mode: 'code', code: await totpCode(bad.body, 30) } });
    assert.equal(fresh.status, 302);
    assert.equal((await c.request('GET', '/owa/')).header('x-lab-identity'), 'LAB\\alice');
    assertNoExchangeCookies(c);
  });

  it('a HEAD of a page gets its head alone', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    try {
      c.write(`HEAD /owa/auth/portcullis/signin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      const r = await c.read('HEAD');
      assert.equal(r.head.status, 200);
      assert.equal(r.body.length, 0);
      for (let i = 0; i < 50 && !c.closed; i++) await new Promise((res) => setTimeout(res, 20));
      assert.equal(c.closed, true, 'and nothing after it: the connection closes');
    } finally {
      c.close();
    }
  });

  it('a code form without the session\'s token is refused', async () => {
    const b = new TestBrowser(env.port, env.pki.ca);
    await b.signIn('LAB\\bob', 'Passw0rd!');
    await b.request('GET', '/owa/auth/portcullis/second-factor');
    const page = await b.request('GET', '/owa/auth/portcullis/second-factor');
    const r = await b.request('POST', '/owa/auth/portcullis/second-factor', { form: { csrf: 'forged', mode: 'enrol', code: await totpCode(page.body) } });
    assert.match(r.body, /expired/);
    assert.equal((await b.request('GET', '/owa/')).status, 302);
  });

  it('NTLM and Basic cannot pass a rule that requires a second factor: refused OWA, where a browser would be asked', async () => {
    const before = env.lab.state.log.length;
    const c = await RawClient.connect(env.port, env.pki.ca);
    const basicOwa = await c.request('GET', '/owa/', { Authorization: `Basic ${Buffer.from('LAB\\alice:Passw0rd!').toString('base64')}` });
    c.close();
    assert.notEqual(basicOwa.head.status, 200);
    assert.equal(basicOwa.header('x-lab-identity'), undefined);
    const n = await RawClient.connect(env.port, env.pki.ca);
    const ntlm = await ntlmLogin(n, '/owa/', 'alice', 'LAB', 'Passw0rd!');
    n.close();
    assert.notEqual(ntlm.head.status, 200);
    assert.ok(env.lab.state.log.slice(before).every((e) => e.identity !== 'LAB\\alice'), 'Exchange never served alice OWA without her second factor');
    // The same password still serves the protocols no rule asks a factor for.
    const e = await RawClient.connect(env.port, env.pki.ca);
    const ews = await e.request('POST', '/EWS/Exchange.asmx', { Authorization: `Basic ${Buffer.from('LAB\\alice:Passw0rd!').toString('base64')}`, 'Content-Type': 'text/xml' }, '<x/>');
    e.close();
    assert.equal(ews.header('x-lab-identity'), 'LAB\\alice');
  });
  it('a passkey is added only soon after signing in: a session cookie stolen later cannot add one', async () => {
    const b = new TestBrowser(env.port, env.pki.ca);
    await b.signIn('LAB\\bob', 'Passw0rd!');
    const enrol = await b.request('GET', '/owa/auth/portcullis/second-factor');
    const ok = await b.request('POST', '/owa/auth/portcullis/second-factor', { form: { csrf: TestBrowser.csrfOf(enrol), mode: 'enrol', code: await totpCode(enrol.body) } });
    assert.equal(ok.status, 302);
    const page = await b.request('GET', '/owa/auth/portcullis/passkeys');
    const csrf = /<meta name="portcullis-csrf" content="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(csrf, page.body);
    const ask = () => b.request('POST', '/owa/auth/portcullis/passkey/register-options', { headers: { 'X-Portcullis-CSRF': csrf! }, json: {} });
    assert.equal((await ask()).status, 200, 'right after the second factor');
    await new Promise((r) => setTimeout(r, 1700));
    const late = await ask();
    assert.equal(late.status, 403);
    assert.match(late.body, /Sign in again/);
    // The enrolment is on the record with where it came from (the first to know a password enrols).
    const recs = await env.runtime.audit!.writer.store.query({ event: '2fa-enrolled', user: 'LAB\\bob' }, { order: 'desc', limit: 1 });
    assert.equal(recs[0]?.cause, 'totp');
    assert.equal(recs[0]?.clientIp, '127.0.0.1');
    assert.equal(recs[0]?.zone, 'external');
  });

});

describe('browser sign-in: step-up to a second factor (ECP always)', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({
      lab: { forms: ['owa', 'ecp'] },
      config: (b) => ({
        ...b,
        listeners: [{ ...(b.listeners as object[])[0], zone: 'internal' }],
        signin: { zones: ['internal'], failureTime: '50ms', secondFactor: secondFactorSection() },
        policy: { ...DEMO_POLICY, rules: [...DEMO_POLICY.rules, { name: 'ecp-second-factor', effect: 'allow', protocols: ['ecp'], groups: ['Outlook-Remote'], secondFactor: 'required' }] },
      }),
    });
  });
  after(() => env?.stop());

  it('alice reaches OWA with her password alone; ECP asks for the second factor first, then serves her', async () => {
    const b = new TestBrowser(env.port, env.pki.ca);
    assert.equal((await b.signIn('LAB\\alice', 'Passw0rd!')).header('location'), '/owa/');
    assert.equal((await b.request('GET', '/owa/')).header('x-lab-identity'), 'LAB\\alice');
    const ecpBefore = env.lab.state.log.filter((e) => e.path === '/ecp/').length;
    const ecp = await b.request('GET', '/ecp/');
    assert.equal(ecp.status, 302);
    assert.equal(ecp.header('location'), '/owa/auth/portcullis/second-factor');
    assert.equal(env.lab.state.log.filter((e) => e.path === '/ecp/').length, ecpBefore, 'ECP saw nothing yet');
    const page = await b.request('GET', '/owa/auth/portcullis/second-factor');
    const done = await b.request('POST', '/owa/auth/portcullis/second-factor', { form: { csrf: TestBrowser.csrfOf(page), mode: 'enrol', code: await totpCode(page.body) } });
    assert.equal(done.header('location'), '/ecp/');
    assert.equal((await b.request('GET', '/ecp/')).header('x-lab-identity'), 'LAB\\alice');
    assert.equal((await b.request('GET', '/owa/')).header('x-lab-identity'), 'LAB\\alice');
  });
});

describe('browser sign-in while Exchange is down (file directory: Exchange checks the password)', () => {
  let env: Env;
  before(async () => {
    env = await signinEnv();
    await env.lab.stop();
  });
  after(() => env?.stop());

  it('an allowed user gets the page of a user who does not exist: the outage tells nobody who may sign in', async () => {
    // An outside attack listed the users allowed OWA: they got a quick 503, everyone else the failure page.
    const page = async (user: string) => {
      const t0 = Date.now();
      const r = await new TestBrowser(env.port, env.pki.ca).signIn(user, 'whatever-1');
      return { status: r.status, body: r.body.replace(/name="csrf" value="[^"]+"/, ''), slow: Date.now() - t0 >= 140 };
    };
    const alice = await page('LAB\\alice');
    assert.deepEqual(alice, await page('LAB\\nobody'));
    assert.deepEqual(alice, await page('LAB\\carol'));
    assert.equal(alice.status, 200);
  });
});

describe('browser sign-in: an expired password', () => {
  let env: Env;
  before(async () => {
    env = await signinEnv({}, { ...SIGNIN, passwordChangeUrl: 'https://passwordreset.lab.example/' });
    // dave's password is right but expired, as AD would say (the lab's Exchange sends him to expiredpassword.aspx).
    (env.lab.state.options.directory.resolveLogon('LAB\\dave') as { passwordExpired?: boolean }).passwordExpired = true;
  });
  after(() => env?.stop());

  it('the right password, expired: a page that says so and links to the password change; no session, no failure counted', async () => {
    for (let i = 0; i < 4; i++) {
      const b = new TestBrowser(env.port, env.pki.ca);
      const r = await b.signIn('LAB\\dave', 'Passw0rd!');
      assert.equal(r.status, 200);
      assert.match(r.body, /Your password has expired/);
      assert.match(r.body, /<a [^>]*href="https:\/\/passwordreset\.lab\.example\/"[^>]*>Change your password<\/a>/);
      assert.equal(b.jar.has(SESSION), false, 'no session');
    }
    assert.equal(env.runtime.authority!.users.isLockedOut('LAB\\dave'), false, 'four sign-ins with the right password are no failures (threshold 3)');
  });

  it('a wrong password of that user gets the ordinary failure page: only the right password hears that it expired', async () => {
    const wrong = await new TestBrowser(env.port, env.pki.ca).signIn('LAB\\dave', 'Summer2026!');
    const nobody = await new TestBrowser(env.port, env.pki.ca).signIn('LAB\\nobody', 'Summer2026!');
    assert.doesNotMatch(wrong.body, /expired/);
    assert.equal(wrong.body.replace(/name="csrf" value="[^"]+"/, ''), nobody.body.replace(/name="csrf" value="[^"]+"/, ''));
  });
});

describe('browser sign-in: idle and absolute time-outs', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ lab: { forms: ['owa', 'ecp'] }, config: (b) => ({ ...b, signin: { zones: ['external'], failureTime: '50ms', idleTimeout: '600ms', absoluteTimeout: '1500ms' } }) });
  });
  after(() => env?.stop());
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("a session unused for idleTimeout ends, and Exchange's with it", async () => {
    const b = new TestBrowser(env.port, env.pki.ca);
    await b.signIn('LAB\\bob', 'Passw0rd!');
    await pause(300);
    assert.equal((await b.request('GET', '/owa/')).status, 200, 'used within the idle time');
    await pause(300);
    assert.equal((await b.request('GET', '/owa/')).status, 200, 'the last use counts, not the sign-in');
    await pause(800);
    const late = await b.request('GET', '/owa/');
    assert.equal(late.status, 302);
    assert.match(late.header('location')!, /signin/);
    assert.equal(env.lab.state.log.at(-1)!.path, '/owa/logoff.owa', "Exchange's session was signed out");
  });

  it('a busy session ends at absoluteTimeout', async () => {
    const b = new TestBrowser(env.port, env.pki.ca);
    await b.signIn('LAB\\bob', 'Passw0rd!');
    const t0 = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - t0 < 5000) {
      await pause(250);
      status = (await b.request('GET', '/owa/')).status;
    }
    assert.equal(status, 302);
    assert.ok(Date.now() - t0 >= 1400, `ended after ${Date.now() - t0} ms`);
  });
});

describe('browser sign-in to a virtual directory that uses Basic', () => {
  let env: Env;
  before(async () => {
    // The lab's OWA without forms-based sign-in: IIS Basic (and Windows) authentication only.
    env = await startEnv({ config: (b) => ({ ...b, signin: { zones: ['external'], failureTime: '50ms', exchangeSignIn: { owa: 'basic', ecp: 'basic' } } }) });
  });
  after(() => env?.stop());

  it('the password is checked with Basic, kept sealed in the gateway, and sent upstream with every request of the session', async () => {
    const bad = new TestBrowser(env.port, env.pki.ca);
    assert.equal((await bad.signIn('LAB\\alice', 'wrong')).status, 200);
    assert.equal(bad.jar.has(SESSION), false);
    const b = new TestBrowser(env.port, env.pki.ca);
    assert.equal((await b.signIn('LAB\\alice', 'Passw0rd!')).header('location'), '/owa/');
    const r = await b.request('GET', '/owa/');
    assert.equal(r.header('x-lab-identity'), 'LAB\\alice');
    const seen = env.lab.state.log.at(-1)!;
    assert.equal(seen.authorization, 'Basic');
    assert.deepEqual(seen.cookies, [], "the gateway's cookie never reaches Exchange");
    for (const a of b.answers) assert.equal(a.header('www-authenticate'), undefined);
  });
});
