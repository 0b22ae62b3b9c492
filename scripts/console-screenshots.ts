// `npm run docs:console`: screenshots of each console page into docs/console/*.png, from the test
// environment (lab Exchange, gateway, console) with a little traffic: alice works, carol is
// refused, bob holds a NotificationWait, erin is looked up. Needs /usr/bin/chromium.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { RawClient } from '../src/doctor/http-probe.js';
import { startEnv } from '../test/helpers/env.js';
import { CONSOLE_PASSWORDS, bobsNotificationWait, consoleSection } from '../test/helpers/console-client.js';
import { launchChromium } from '../test/helpers/chromium.js';

const OUT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../docs/console');
const basic = (u: string) => `Basic ${Buffer.from(`${u}:Passw0rd!`).toString('base64')}`;

const section = await consoleSection(5);
const env = await startEnv({ lab: { mapi: { pendingPeriodMs: 120_000, notificationWaitMs: 120_000 } }, config: (b) => ({ ...b, admin: { ...(b['admin'] as object), console: section } }) });
const admin = env.runtime.admin!.url;
const chrome = await launchChromium();
try {
  mkdirSync(OUT, { recursive: true });
  const ctx = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(`${admin}/console/`);
  await page.fill('#login', 'operator');
  await page.fill('#password', CONSOLE_PASSWORDS.operator);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/console\/$/);
  // Traffic for the charts and the table, spread over a few samples.
  const bob = await bobsNotificationWait(env.port, env.pki.ca);
  for (let round = 0; round < 4; round++) {
    for (const [user, p] of [['LAB\\alice', '/owa/'], ['LAB\\carol', '/EWS/Exchange.asmx'], ['LAB\\dave', '/EWS/Exchange.asmx'], ['LAB\\alice', '/EWS/Exchange.asmx']] as const) {
      const c = await RawClient.connect(env.port, env.pki.ca);
      await c.request('GET', p, { Authorization: basic(user) }).catch(() => undefined);
      c.close();
    }
    await new Promise((r) => setTimeout(r, 5200));
  }
  const shots: Array<[string, string]> = [
    ['overview', '/console/'],
    ['connections', '/console/connections'],
    ['user', `/console/users/view?user=${encodeURIComponent('LAB\\erin')}`],
    ['audit', '/console/audit'],
    ['policy', '/console/policy'],
  ];
  for (const [name, p] of shots) {
    await page.goto(`${admin}${p}`);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: name !== 'audit' });
    console.log(`docs/console/${name}.png`);
  }
  await page.goto(`${admin}/console/doctor`);
  await page.fill('input[name=url]', `127.0.0.1:${env.port}`);
  await page.click('button[data-action=doctor]');
  await page.locator('iframe.report').waitFor({ timeout: 120_000 });
  await page.waitForTimeout(1000);
  await page.screenshot({ path: path.join(OUT, 'doctor.png') });
  console.log('docs/console/doctor.png');
  bob.close();
} finally {
  await chrome.close();
  await env.stop();
}
