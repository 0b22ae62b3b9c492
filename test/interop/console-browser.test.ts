// The admin console in a real browser (chromium through playwright-core): sign in, watch bob's
// live NotificationWait appear, revoke him (confirmed) and see it gone and on the record; a viewer
// has no revoke button and its POST is refused; a POST without the CSRF token is refused; erin's
// access matrix; the sign-in rate limit. No CSP violation on any page.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startEnv, type Env } from '../helpers/env.js';
import { CONSOLE_PASSWORDS, bobsNotificationWait, consoleSection } from '../helpers/console-client.js';
import { launchChromium } from '../helpers/chromium.js';

async function signInPage(browser: Browser, admin: string, login: 'operator' | 'viewer', password: string = CONSOLE_PASSWORDS[login]): Promise<{ page: Page; violations: string[] }> {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  await page.goto(`${admin}/console/`);
  assert.match(page.url(), /\/console\/sign-in$/);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  return { page, violations };
}

describe('admin console in chromium', { timeout: 120_000 }, () => {
  let env: Env;
  let admin: string;
  let chrome: Awaited<ReturnType<typeof launchChromium>>;
  before(async () => {
    const section = await consoleSection(3);
    env = await startEnv({ lab: { mapi: { pendingPeriodMs: 60_000, notificationWaitMs: 60_000 } }, config: (b) => ({ ...b, admin: { ...(b['admin'] as object), console: section } }) });
    admin = env.runtime.admin!.url;
    chrome = await launchChromium();
  });
  after(async () => {
    await chrome?.close();
    await env?.stop();
  });

  it("operator: bob's NotificationWait appears live, revoke with a reason, connection gone, audit record written", async () => {
    const { page, violations } = await signInPage(chrome.browser, admin, 'operator');
    await page.waitForURL(/\/console\/$/);
    await page.goto(`${admin}/console/connections`);
    assert.equal(await page.locator('tr[data-user="LAB\\\\bob"]').count(), 0);
    const bob = await bobsNotificationWait(env.port, env.pki.ca);
    const row = page.locator('tr[data-user="LAB\\\\bob"]');
    await row.first().waitFor({ timeout: 10_000 });
    assert.match((await row.first().textContent()) ?? '', /NotificationWait/);
    page.once('dialog', (d) => void d.accept());
    await row.first().locator('summary').click();
    await row.first().locator('input[name=reason]').fill('phone stolen');
    await row.first().locator('button[data-action=revoke]').click();
    await page.locator('#flash.ok').waitFor({ timeout: 5000 });
    assert.match((await page.locator('#flash').textContent()) ?? '', /LAB\\bob revoked: 1 connection/);
    await bob.waitClosed(2000);
    await page.locator('tr[data-user="LAB\\\\bob"]').first().waitFor({ state: 'detached', timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 500));
    await page.goto(`${admin}/console/audit?event=revoked`);
    const audit = (await page.locator('table').textContent()) ?? '';
    assert.match(audit, /LAB\\bob/);
    assert.match(audit, /by console:operator/);
    assert.match(audit, /phone stolen/);
    // Without the CSRF token the same action is refused, from the signed-in browser itself.
    const status = await page.evaluate(async () => (await fetch('/console/users/unrevoke', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'user=LAB%5Cbob' })).status);
    assert.equal(status, 403);
    // erin: MAPI allowed, RPC denied from outside, with reasons.
    await page.goto(`${admin}/console/users?q=erin`);
    await page.click('text=LAB\\erin');
    assert.equal(await page.locator('tr[data-protocol=mapi] td').first().getAttribute('data-allow'), 'true');
    assert.equal(await page.locator('tr[data-protocol=rpc] td').first().getAttribute('data-allow'), 'false');
    assert.match((await page.locator('tr[data-protocol=rpc] td').first().textContent()) ?? '', /denied.+/);
    for (const p of ['/console/', '/console/policy', '/console/doctor']) await page.goto(`${admin}${p}`);
    assert.deepEqual(violations, []);
    await fetch(`${admin}/api/unrevoke`, { method: 'POST', headers: { Authorization: `Bearer ${env.runtime.admin!.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'LAB\\bob' }) });
  });

  it('viewer: no revoke or close button, and the POST is refused even with the token', async () => {
    const bob = await bobsNotificationWait(env.port, env.pki.ca);
    const { page } = await signInPage(chrome.browser, admin, 'viewer');
    await page.waitForURL(/\/console\/$/);
    await page.goto(`${admin}/console/connections`);
    await page.locator('tr[data-user="LAB\\\\bob"]').first().waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('[data-action]').count(), 0);
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const status = await page.evaluate(async (token) => (await fetch('/console/users/revoke', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-CSRF-Token': token }, body: 'user=LAB%5Cbob&reason=x' })).status, csrf);
    assert.equal(status, 403);
    assert.equal(bob.closed, false);
    bob.close();
  });

  it('sign-in is rate limited per account', async () => {
    for (let i = 0; i < 3; i++) {
      const { page } = await signInPage(chrome.browser, admin, 'viewer', 'wrong');
      await page.locator('.flash.bad').waitFor();
      assert.match((await page.locator('.flash.bad').textContent()) ?? '', /Wrong login or password/);
    }
    const { page } = await signInPage(chrome.browser, admin, 'viewer');
    await page.locator('.flash.bad').waitFor();
    assert.match((await page.locator('.flash.bad').textContent()) ?? '', /Too many failed sign-ins/);
  });
});
