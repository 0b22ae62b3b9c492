// Browser sign-in at the gateway in a real browser (chromium through playwright-core): alice
// signs in to OWA, enrols her second factor, reaches the lab's OWA as LAB\alice, signs out; a
// replayed code is refused; carol and an unknown user see the same failure page; revoking alice
// ends her browser session at the next request. No Content-Security-Policy violation on any page.
// The second factor here is the test double of test/helpers/signin-browser.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { DEMO_POLICY, type Env, adminHeaders, startEnv } from '../helpers/env.js';
import { launchChromium } from '../helpers/chromium.js';
import { SecondFactorDouble } from '../helpers/signin-browser.js';

describe('browser sign-in in chromium', { timeout: 180_000 }, () => {
  let env: Env;
  let chrome: Awaited<ReturnType<typeof launchChromium>>;
  let origin: string;
  const sf = new SecondFactorDouble();
  const violations: string[] = [];

  async function newPage(): Promise<{ ctx: BrowserContext; page: Page }> {
    const ctx = await chrome.browser.newContext({ ignoreHTTPSErrors: true });
    const page = await ctx.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
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
      secondFactor: sf,
      config: (b) => ({
        ...b,
        signin: { zones: ['external'], organisation: 'Lab Example Ltd', failureTime: '200ms' },
        policy: { ...DEMO_POLICY, rules: [...DEMO_POLICY.rules, { name: 'owa-second-factor', effect: 'allow', zones: ['external'], protocols: ['owa'], groups: ['Outlook-Remote'], secondFactor: 'required' }] },
      }),
    });
    // WebAuthn and __Host- cookies want a secure origin with a host name: localhost is in the gateway's certificate.
    origin = `https://localhost:${env.port}`;
    chrome = await launchChromium();
  });
  after(async () => {
    await chrome?.close();
    await env?.stop();
  });

  it('alice signs in, enrols her second factor, reaches the lab\'s OWA as LAB\\alice, and signs out', async () => {
    const { ctx, page } = await newPage();
    const exchangeCookies: string[] = [];
    page.on('response', async (r) => {
      for (const h of await r.headersArray()) if (h.name.toLowerCase() === 'set-cookie' && !h.value.startsWith('__Host-portcullis-')) exchangeCookies.push(h.value.split('=')[0]!);
    });
    await signIn(page, 'LAB\\alice', 'Passw0rd!');
    assert.match(page.url(), /\/owa\/auth\/portcullis\/second-factor$/);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Set up your second factor');
    assert.equal(await page.locator('#totp-secret').textContent(), 'JBSWY3DPEHPK3PXP');
    await page.getByLabel('Code').fill(sf.current);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${origin}/owa/`);
    assert.equal(await page.title(), 'OWA (LAB\\alice)');
    const cookies = await ctx.cookies();
    assert.deepEqual(cookies.map((c) => c.name), ['__Host-portcullis-session']);
    assert.equal(cookies[0]!.httpOnly, true);
    assert.equal(cookies[0]!.sameSite, 'Lax');
    assert.deepEqual(exchangeCookies, [], "Exchange's cookies never reached the browser");
    await page.goto(`${origin}/owa/logoff.owa`);
    assert.match((await page.locator('main').textContent()) ?? '', /You have signed out/);
    assert.deepEqual(await ctx.cookies(), []);
    await page.goto(`${origin}/owa/`);
    assert.match(page.url(), /signin/);
    await ctx.close();
  });

  it('a replayed code is refused', async () => {
    const { ctx, page } = await newPage();
    await signIn(page, 'LAB\\alice', 'Passw0rd!');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Second factor');
    await page.getByLabel('Code').fill(sf.current);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForLoadState();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /already used/);
    await page.goto(`${origin}/owa/`);
    assert.match(page.url(), /second-factor/);
    await ctx.close();
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
    sf.current = '222333';
    const { ctx, page } = await newPage();
    await signIn(page, 'LAB\\alice', 'Passw0rd!');
    await page.getByLabel('Code').fill(sf.current);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${origin}/owa/`);
    assert.equal(await page.title(), 'OWA (LAB\\alice)');
    const res = await fetch(`${env.runtime.admin!.url}/api/revoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\alice', reason: 'browser test' }) });
    assert.equal(res.status, 200);
    await page.goto(`${origin}/owa/`);
    assert.match(page.url(), /\/owa\/auth\/portcullis\/signin/);
    assert.deepEqual((await ctx.cookies()).map((c) => c.name), ['__Host-portcullis-csrf'], 'the session cookie is gone; only the new form token');
    await fetch(`${env.runtime.admin!.url}/api/unrevoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\alice' }) });
    await ctx.close();
  });

  it('no page broke the Content-Security-Policy', () => {
    assert.deepEqual(violations, []);
  });
});
