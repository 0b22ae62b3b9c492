// Browser sign-in at the gateway in a real browser (chromium through playwright-core, Debian's
// /usr/bin/chromium): alice signs in to OWA, enrols TOTP (the test computes the codes with otplib
// from the key the page shows), reaches the lab's OWA as LAB\alice, registers a passkey with
// Chromium's virtual authenticator (CDP WebAuthn), signs out; a replayed code is refused; the
// passkey signs her in; carol and an unknown user see the same failure page; revoking alice ends
// her browser session at the next request. No Content-Security-Policy violation on any page.
// The second factor is the gateway's own (signin.secondFactor: src/signin/second-factor-service.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import type { BrowserContext, Page } from 'playwright-core';
import { DEMO_POLICY, type Env, adminHeaders, startEnv } from '../helpers/env.js';
import { launchChromium } from '../helpers/chromium.js';
import { secondFactorSection } from '../helpers/signin-browser.js';

describe('browser sign-in in chromium', { timeout: 180_000 }, () => {
  let env: Env;
  let chrome: Awaited<ReturnType<typeof launchChromium>>;
  let origin: string;
  const violations: string[] = [];
  /** alice's browser: one context and page for the whole story (its virtual authenticator keeps her passkey). */
  let alice: { ctx: BrowserContext; page: Page };
  let secret = '';
  let firstCode = '';
  const exchangeCookies: string[] = [];

  async function newPage(): Promise<{ ctx: BrowserContext; page: Page }> {
    const ctx = await chrome.browser.newContext({ ignoreHTTPSErrors: true });
    const page = await ctx.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    page.on('response', async (r) => {
      // Exchange's canaries (CSRF tokens its scripts read) are the only cookies of Exchange's a browser may hold.
      for (const h of await r.headersArray()) if (h.name.toLowerCase() === 'set-cookie' && !/^(__Host-portcullis-|X-OWA-CANARY=|msExchEcpCanary=)/.test(h.value)) exchangeCookies.push(h.value.split('=')[0]!);
    });
    return { ctx, page };
  }

  async function signIn(page: Page, user: string, password: string): Promise<void> {
    await page.goto(`${origin}/owa/`);
    assert.match(page.url(), /\/owa\/auth\/portcullis\/signin\?destination=%2Fowa%2F$/);
    await page.getByLabel(/User name/).fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
  }

  before(async () => {
    env = await startEnv({
      lab: { forms: ['owa', 'ecp'] },
      config: (b) => ({
        ...b,
        signin: { zones: ['external'], organisation: 'Lab Example Ltd', failureTime: '200ms', secondFactor: secondFactorSection() },
        policy: { ...DEMO_POLICY, rules: [...DEMO_POLICY.rules, { name: 'owa-second-factor', effect: 'allow', zones: ['external'], protocols: ['owa'], groups: ['Outlook-Remote'], secondFactor: 'required' }] },
      }),
    });
    // WebAuthn and __Host- cookies want a secure origin with a host name: localhost is in the gateway's certificate.
    origin = `https://localhost:${env.port}`;
    chrome = await launchChromium();
    alice = await newPage();
    const cdp = await alice.ctx.newCDPSession(alice.page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } });
  });
  after(async () => {
    await chrome?.close();
    await env?.stop();
  });

  it("alice signs in, enrols TOTP, reaches the lab's OWA as LAB\\alice, adds a passkey, and signs out", async () => {
    const { ctx, page } = alice;
    await signIn(page, 'LAB\\alice', 'Passw0rd!');
    assert.match(page.url(), /\/owa\/auth\/portcullis\/second-factor$/);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Set up your second factor');
    assert.equal(await page.getByRole('img', { name: 'QR code of your authenticator key' }).count(), 1);
    secret = (await page.locator('#totp-secret').textContent())!;
    firstCode = await generate({ secret });
    await page.getByLabel('Code').fill(firstCode);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${origin}/owa/`);
    assert.equal(await page.title(), 'OWA (LAB\\alice)');
    const cookies = await ctx.cookies();
    assert.deepEqual(cookies.map((c) => c.name).sort(), ['X-OWA-CANARY', '__Host-portcullis-session', 'msExchEcpCanary']);
    const session = cookies.find((c) => c.name === '__Host-portcullis-session')!;
    assert.deepEqual([session.httpOnly, session.secure, session.sameSite], [true, true, 'Lax']);
    // What OWA's own scripts do: read the canary from document.cookie and echo it as a header. The
    // page cannot read the gateway's session cookie; Exchange accepts the POST only with the canary.
    // (A string: the page runs it as written, without the test's compiler or DOM types.)
    const posted = await page.evaluate(`(async () => {
      const canary = (/(?:^|; )X-OWA-CANARY=([^;]*)/.exec(document.cookie) || [])[1] || 'X-OWA-CANARY_cookie_is_null_or_empty';
      const url = '/owa/service.svc?action=GetFolder';
      const withCanary = (await fetch(url, { method: 'POST', headers: { 'X-OWA-CANARY': canary } })).status;
      const without = (await fetch(url, { method: 'POST' })).status;
      return { sessionReadable: document.cookie.includes('portcullis'), withCanary, without };
    })()`);
    assert.deepEqual(posted, { sessionReadable: false, withCanary: 200, without: 449 });
    await page.goto(`${origin}/owa/auth/portcullis/passkeys`);
    await page.getByLabel('Name of the new passkey').fill('Test laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByRole('status').filter({ hasText: 'Passkey added.' }).waitFor({ timeout: 10_000 });
    await page.reload();
    assert.deepEqual(await page.getByRole('listitem').allTextContents(), ['Test laptop']);
    await page.goto(`${origin}/owa/logoff.owa`);
    assert.match((await page.locator('main').textContent()) ?? '', /You have signed out/);
    assert.deepEqual(await ctx.cookies(), []);
    await page.goto(`${origin}/owa/`);
    assert.match(page.url(), /signin/);
    assert.deepEqual(exchangeCookies, [], "Exchange's cookies never reached the browser");
  });

  it('a replayed code is refused; the passkey signs alice in', async () => {
    const { page } = alice;
    await signIn(page, 'LAB\\alice', 'Passw0rd!');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Second factor');
    await page.getByLabel('Code').fill(firstCode);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForLoadState();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /already used/);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(`${origin}/owa/`);
    assert.equal(await page.title(), 'OWA (LAB\\alice)');
  });

  it('carol and an unknown user see the same failure page', async () => {
    const texts: string[] = [];
    for (const user of ['LAB\\carol', 'LAB\\nobody']) {
      const { ctx, page } = await newPage();
      await signIn(page, user, 'Passw0rd!');
      assert.match(page.url(), /\/owa\/auth\/portcullis\/signin$/);
      texts.push((await page.content()).replace(/name="csrf" value="[^"]+"/, ''));
      await ctx.close();
    }
    assert.equal(texts[0], texts[1]);
    assert.match(texts[0]!, /The user name or password is incorrect/);
  });

  it('revoking alice ends her browser session at the next request', async () => {
    const { ctx, page } = alice;
    await page.goto(`${origin}/owa/`);
    assert.equal(await page.title(), 'OWA (LAB\\alice)');
    const res = await fetch(`${env.runtime.admin!.url}/api/revoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\alice', reason: 'browser test' }) });
    assert.equal(res.status, 200);
    await page.goto(`${origin}/owa/`);
    assert.match(page.url(), /\/owa\/auth\/portcullis\/signin/);
    assert.deepEqual((await ctx.cookies()).map((c) => c.name), ['__Host-portcullis-csrf'], 'the session cookie is gone; only the new form token');
    await fetch(`${env.runtime.admin!.url}/api/unrevoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\alice' }) });
  });

  it('no page broke the Content-Security-Policy', () => {
    assert.deepEqual(violations, []);
  });
});
