// The passkey half of the second factor against a real browser's WebAuthn: Chromium's virtual
// authenticator (CDP WebAuthn domain) answers the service's options through
// navigator.credentials.create()/get() on a loopback page, and the service verifies what Chromium
// produced. No sign-in pages here (the browser sign-in flow has its own test); this pins down that
// the options and verification of second-factor-service.ts fit what a browser really sends.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { MemorySecondFactorStore } from '../../src/state/memory-second-factor-store.js';
import { keyOf, SecretBox } from '../../src/signin/secret-box.js';
import { createSecondFactorService } from '../../src/signin/second-factor-service.js';
import type { RelyingParty } from '../../src/signin/second-factor.js';
import { launchChromium } from '../helpers/chromium.js';

describe('passkeys with Chromium\'s virtual authenticator', { timeout: 120_000 }, () => {
  let server: http.Server;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  let rp: RelyingParty;
  const warnings: string[] = [];
  const svc = createSecondFactorService({
    store: new MemorySecondFactorStore(),
    box: new SecretBox(keyOf(randomBytes(32))),
    log: { info: () => {}, warn: (o) => void warnings.push(JSON.stringify(o)), error: (o) => void warnings.push(JSON.stringify(o)) },
  });

  before(async () => {
    // http://localhost is a secure context, so WebAuthn runs without a certificate.
    server = http.createServer((_req, res) => res.end('<!doctype html><title>passkey</title>'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    rp = { id: 'localhost', origin: `http://localhost:${port}`, name: 'Portcullis test' };
    chromium = await launchChromium();
    page = await chromium.browser.newPage();
    await page.goto(`${rp.origin}/`);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
  });
  after(async () => {
    await chromium?.close();
    server?.close();
  });

  // The page's script as text: this project's TypeScript has no DOM types, and the browser needs none.
  const ceremony = (call: 'create' | 'get', options: unknown) =>
    page.evaluate(
      `(async () => {
        const o = ${JSON.stringify(options)};
        const publicKey = PublicKeyCredential.${call === 'create' ? 'parseCreationOptionsFromJSON' : 'parseRequestOptionsFromJSON'}(o);
        return (await navigator.credentials.${call}({ publicKey })).toJSON();
      })()`,
    ) as Promise<unknown>;
  const create = (options: unknown) => ceremony('create', options);
  const get = (options: unknown) => ceremony('get', options);

  it('registers a passkey, signs in with it twice (the counter moves), and a replay fails', async () => {
    const reg = await svc.passkeyRegistrationOptions('LAB\\alice', 'alice@lab.example', rp);
    const created = await create(reg);
    assert.equal(await svc.verifyPasskeyRegistration('LAB\\alice', created as never, 'Chromium', rp), 'ok', warnings.join('\n'));
    const [pk] = (await svc.enrolment('LAB\\alice')).passkeys;
    assert.equal(pk?.name, 'Chromium');
    for (let i = 0; i < 2; i++) {
      const o = await svc.passkeyAuthenticationOptions('LAB\\alice', rp);
      const assertion = await get(o);
      assert.equal(await svc.verifyPasskeyAuthentication('LAB\\alice', assertion as never, rp), 'ok', warnings.join('\n'));
      assert.equal(await svc.verifyPasskeyAuthentication('LAB\\alice', assertion as never, rp), 'failed', 'the same assertion again');
    }
    assert.ok((await svc.enrolment('LAB\\alice')).passkeys[0]?.lastUsedAt);
  });

  it("alice's passkey cannot sign bob in; the browser will not register it twice", async () => {
    const bobReg = await svc.passkeyRegistrationOptions('LAB\\bob', 'bob@lab.example', rp);
    assert.equal(await svc.verifyPasskeyRegistration('LAB\\bob', (await create(bobReg)) as never, 'bob', rp), 'ok');
    // Bob's options list only bob's credential; alice's credential answering an options list naming it is refused for bob.
    const aliceOptions = (await svc.passkeyAuthenticationOptions('LAB\\alice', rp))!;
    const bobOptions = (await svc.passkeyAuthenticationOptions('LAB\\bob', rp))!;
    const alices = await get({ ...aliceOptions, challenge: bobOptions.challenge });
    assert.equal(await svc.verifyPasskeyAuthentication('LAB\\bob', alices as never, rp), 'failed');
    // Registering again for alice: her existing credential is excluded, so the authenticator refuses.
    const again = await svc.passkeyRegistrationOptions('LAB\\alice', 'alice@lab.example', rp);
    await assert.rejects(create(again), /InvalidStateError|excluded|already registered/i);
  });
});
