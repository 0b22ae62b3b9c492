// The second factor with real otplib codes on a clock the test moves, and real WebAuthn ceremonies
// from a software authenticator (test/helpers/soft-authenticator.ts). Two services on one store
// data stand for two gateway instances.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, it } from 'node:test';
import { generate } from 'otplib';
import { FLAG_AT, FLAG_UV, SoftAuthenticator } from '../../test/helpers/soft-authenticator.js';
import { MemorySecondFactorData, MemorySecondFactorStore } from '../state/memory-second-factor-store.js';
import { keyOf, SecretBox } from './secret-box.js';
import { CHALLENGE_MS, createSecondFactorService, PENDING_TOTP_MS, type SecondFactorLog, webauthnUserId } from './second-factor-service.js';
import type { RelyingParty, SecondFactorService } from './second-factor.js';

const T0 = Date.UTC(2026, 11, 2, 9, 0, 10); // 10 s into a time step
const RP: RelyingParty = { id: 'mail.example.com', origin: 'https://mail.example.com', name: 'Example Org' };
const ALICE = 'LAB\\alice';

let t: number;
let data: MemorySecondFactorData;
let box: SecretBox;
let lines: Array<{ level: string; obj: object; msg: string }>;
const log: SecondFactorLog = {
  info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
  warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
  error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
};
const instance = (b = box): SecondFactorService => createSecondFactorService({ store: new MemorySecondFactorStore(data), box: b, log, now: () => t });
const codeAt = (secret: string, ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });
/** Every log line so far, as text, contains none of these. */
const assertNotLogged = (...secrets: string[]) => {
  const text = JSON.stringify(lines);
  for (const s of secrets) assert.ok(!text.includes(s), `logged: ${s}`);
};

beforeEach(() => {
  t = T0;
  data = new MemorySecondFactorData();
  box = new SecretBox(keyOf(randomBytes(32)));
  lines = [];
});

async function enrol(svc: SecondFactorService, user = ALICE): Promise<string> {
  const { secret } = await svc.startTotp(user, 'alice@example.com', 'Example Org');
  assert.equal(await svc.confirmTotp(user, await codeAt(secret, t)), 'ok');
  return secret;
}

describe('TOTP', () => {
  it('start: a base32 secret, a complete otpauth URI, an SVG QR code without script; pending until confirmed', async () => {
    const svc = instance();
    const s = await svc.startTotp(ALICE, 'alice@example.com', 'Example Org');
    assert.match(s.secret, /^[A-Z2-7]{32}$/, '20 bytes in base32');
    assert.equal(s.otpauthUri, `otpauth://totp/Example%20Org:alice%40example.com?secret=${s.secret}&issuer=Example%20Org&algorithm=SHA1&digits=6&period=30`);
    assert.match(s.qrSvg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>.*<\/svg>\s*$/s);
    assert.doesNotMatch(s.qrSvg, /<script|on\w+=|javascript:|href/i);
    assert.deepEqual(await svc.enrolment(ALICE), { totp: false, passkeys: [] });
    assert.equal(await svc.verifyTotp(ALICE, await codeAt(s.secret, t)), 'not-enrolled', 'a pending secret cannot sign in');
    // At rest only ciphertext: the store holds nothing that contains the secret.
    const stored = data.pending.get(ALICE.toLowerCase());
    assert.ok(stored && stored.secret.keyId === box.currentKeyId && !JSON.stringify(stored).includes(s.secret));
    assertNotLogged(s.secret);
  });

  it('confirm: a wrong or malformed code is refused, the right one activates the secret once', async () => {
    const svc = instance();
    const { secret } = await svc.startTotp(ALICE, 'alice', 'Org');
    const code = await codeAt(secret, t);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    for (const bad of [wrong, '', '12345', '1234567', 'abcdef', ` ${code}`, `${code}\n`]) assert.equal(await svc.confirmTotp(ALICE, bad), 'bad-code', JSON.stringify(bad));
    assert.equal(await svc.confirmTotp(ALICE, code), 'ok');
    assert.deepEqual(await svc.enrolment(ALICE), { totp: true, passkeys: [] });
    assert.equal(await svc.confirmTotp(ALICE, code), 'no-pending');
    assert.ok(!JSON.stringify([...data.active.values()]).includes(secret), 'active secret sealed at rest');
    assertNotLogged(secret, code);
  });

  it('confirm: nothing pending, a pending secret past 15 minutes, or one replaced by a newer start', async () => {
    const svc = instance();
    assert.equal(await svc.confirmTotp(ALICE, '123456'), 'no-pending');
    const first = await svc.startTotp(ALICE, 'alice', 'Org');
    t += PENDING_TOTP_MS;
    assert.equal(await svc.confirmTotp(ALICE, await codeAt(first.secret, t)), 'no-pending', 'expired');
    const a = await svc.startTotp(ALICE, 'alice', 'Org');
    const b = await svc.startTotp(ALICE, 'alice', 'Org');
    assert.notEqual(a.secret, b.secret);
    assert.equal(await svc.confirmTotp(ALICE, await codeAt(a.secret, t)), 'bad-code', 'the replaced secret no longer counts');
    assert.equal(await svc.confirmTotp(ALICE, await codeAt(b.secret, t)), 'ok');
  });

  it('verify: ±1 time step, and no code accepted twice (the confirming one included)', async () => {
    const svc = instance();
    const secret = await enrol(svc);
    const confirming = await codeAt(secret, t);
    assert.equal(await svc.verifyTotp(ALICE, confirming), 'replayed', 'the code that confirmed cannot sign in');
    t += 30_000;
    const next = await codeAt(secret, t);
    assert.equal(await svc.verifyTotp(ALICE, next), 'ok');
    assert.equal(await svc.verifyTotp(ALICE, next), 'replayed');
    // The next step's code, one step early (the phone's clock runs ahead): accepted.
    assert.equal(await svc.verifyTotp(ALICE, await codeAt(secret, t + 30_000)), 'ok');
    // Back to this step's code now: its step is below the last accepted one.
    t += 5_000;
    assert.equal(await svc.verifyTotp(ALICE, await codeAt(secret, t - 30_000)), 'replayed');
    t += 120_000;
    assert.equal(await svc.verifyTotp(ALICE, await codeAt(secret, t - 60_000)), 'bad-code', 'two steps old');
    assert.equal(await svc.verifyTotp(ALICE, await codeAt(secret, t + 60_000)), 'bad-code', 'two steps ahead');
    assert.equal(await svc.verifyTotp(ALICE, await codeAt(secret, t - 30_000)), 'ok', 'one step late');
    assert.equal(await svc.verifyTotp('LAB\\bob', await codeAt(secret, t)), 'not-enrolled');
    assert.equal(lines.filter((l) => l.msg === 'second factor: TOTP replay refused').length, 3);
    assertNotLogged(secret, confirming, next);
  });

  it('two instances: a code accepted by one is a replay at the other; racing with one code, exactly one wins', async () => {
    const a = instance();
    const b = instance();
    const secret = await enrol(a);
    t += 30_000;
    const code = await codeAt(secret, t);
    assert.equal(await a.verifyTotp(ALICE, code), 'ok');
    assert.equal(await b.verifyTotp('lab\\Alice', code), 'replayed');
    t += 30_000;
    const racing = await codeAt(secret, t);
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).verifyTotp(ALICE, racing)));
    assert.deepEqual(answers.filter((x) => x === 'ok').length, 1, answers.join(','));
    assert.deepEqual(answers.filter((x) => x === 'replayed').length, 7);
  });

  it('a sealed secret that does not open (tampered, another key, copied to another user) fails closed with a log line', async () => {
    const svc = instance();
    const secret = await enrol(svc);
    const sealed = data.active.get(ALICE.toLowerCase())!;
    t += 30_000;
    const code = await codeAt(secret, t);
    const raw = Buffer.from(sealed.data, 'base64url');
    raw[raw.length - 1]! ^= 1;
    data.active.set(ALICE.toLowerCase(), { keyId: sealed.keyId, data: raw.toString('base64url') });
    assert.equal(await svc.verifyTotp(ALICE, code), 'bad-code');
    const e = lines.find((l) => l.level === 'error');
    assert.equal(e?.msg, 'second factor: the active TOTP secret cannot be opened');
    assert.match(JSON.stringify(e?.obj), /failed authentication/);
    data.active.set(ALICE.toLowerCase(), sealed);
    assert.equal(await instance(new SecretBox(keyOf(randomBytes(32)))).verifyTotp(ALICE, code), 'bad-code', 'another key');
    assert.match(JSON.stringify(lines.at(-1)), /neither keyFile nor one of previousKeyFiles/);
    data.active.set('lab\\bob', sealed);
    assert.equal(await svc.verifyTotp('LAB\\bob', code), 'bad-code', "alice's secret in bob's row");
    assert.equal(await svc.verifyTotp(ALICE, code), 'ok', 'the untouched one still works');
    assertNotLogged(secret, code, sealed.data);
  });

  it('a stored secret otplib cannot use (not base32, too short) matches no code, with a log line', async () => {
    const svc = instance();
    for (const bad of ['not*base32*at*all*0189', 'AAAA']) {
      data.active.set(ALICE.toLowerCase(), box.seal(bad, ALICE));
      lines = [];
      assert.equal(await svc.verifyTotp(ALICE, '123456'), 'bad-code');
      assert.deepEqual(lines.map((l) => [l.level, l.msg]), [['error', 'second factor: TOTP check failed'], ['info', 'second factor: TOTP refused']], bad);
      assertNotLogged(bad);
    }
  });

  it('after a key rotation the old secret still verifies, and a new enrolment uses the new key', async () => {
    const oldKey = keyOf(randomBytes(32));
    const newKey = keyOf(randomBytes(32));
    const secret = await enrol(instance(new SecretBox(oldKey)));
    const rotated = instance(new SecretBox(newKey, [oldKey]));
    t += 30_000;
    assert.equal(await rotated.verifyTotp(ALICE, await codeAt(secret, t)), 'ok');
    await enrol(rotated, 'LAB\\bob');
    assert.equal(data.active.get('lab\\bob')?.keyId, newKey.id);
    assert.equal(data.active.get('lab\\alice')?.keyId, oldKey.id);
  });
});

describe('passkeys', () => {
  async function registerOne(svc: SecondFactorService, auth = new SoftAuthenticator(), user = ALICE, name = 'YubiKey 5'): Promise<SoftAuthenticator> {
    const options = await svc.passkeyRegistrationOptions(user, 'alice@example.com', RP);
    assert.equal(await svc.verifyPasskeyRegistration(user, auth.register(options, RP.origin), name, RP), 'ok');
    return auth;
  }

  it('registration options: the RP, an opaque user id, preferred verification, no attestation; existing passkeys excluded', async () => {
    const svc = instance();
    const o = await svc.passkeyRegistrationOptions(ALICE, 'alice@example.com', RP);
    assert.deepEqual(o.rp, { name: 'Example Org', id: 'mail.example.com' });
    assert.equal(o.user.name, 'alice@example.com');
    assert.equal(o.user.id, webauthnUserId(ALICE).toString('base64url'));
    assert.ok(!Buffer.from(o.user.id, 'base64url').toString('latin1').includes('alice'));
    assert.equal(o.attestation, 'none');
    assert.equal(o.authenticatorSelection?.userVerification, 'preferred');
    assert.equal(o.timeout, CHALLENGE_MS);
    assert.deepEqual(o.excludeCredentials, []);
    const auth = await registerOne(svc);
    const again = await svc.passkeyRegistrationOptions(ALICE, 'alice@example.com', RP);
    assert.deepEqual(again.excludeCredentials?.map((c) => c.id), [auth.id]);
  });

  it('register, list, sign in: the counter and last use are recorded', async () => {
    const svc = instance();
    assert.equal(await svc.passkeyAuthenticationOptions(ALICE, RP), undefined, 'no passkey: no options');
    const auth = await registerOne(svc, undefined, ALICE, '  My\u0000 phone\u202e \n ');
    const enrolled = await svc.enrolment(ALICE);
    assert.deepEqual(enrolled.passkeys, [{ id: auth.id, name: 'My phone', createdAt: T0, lastUsedAt: undefined }]);
    t += 1000;
    const o = await svc.passkeyAuthenticationOptions(ALICE, RP);
    assert.ok(o);
    assert.equal(o.rpId, RP.id);
    assert.equal(o.userVerification, 'preferred');
    assert.deepEqual(o.allowCredentials?.map((c) => [c.id, c.transports]), [[auth.id, ['internal', 'hybrid']]]);
    assert.equal(await svc.verifyPasskeyAuthentication(ALICE, auth.assert(o, RP.origin), RP), 'ok');
    const [info] = (await svc.enrolment(ALICE)).passkeys;
    assert.equal(info?.lastUsedAt, T0 + 1000);
    assert.equal((await data.passkeys.get(auth.id))?.passkey.counter, 2);
    // Without user verification (the option is "preferred"), and on another instance.
    const o2 = (await instance().passkeyAuthenticationOptions(ALICE, RP))!;
    assert.equal(await instance().verifyPasskeyAuthentication(ALICE, auth.assert(o2, RP.origin, { flags: 0x01 }), RP), 'ok');
  });

  it('a challenge is single use, the user\'s own, and expires after 5 minutes', async () => {
    const svc = instance();
    const auth = new SoftAuthenticator();
    const reg = await svc.passkeyRegistrationOptions(ALICE, 'alice', RP);
    const response = auth.register(reg, RP.origin);
    assert.equal(await svc.verifyPasskeyRegistration(ALICE, response, 'k', RP), 'ok');
    assert.equal(await svc.verifyPasskeyRegistration(ALICE, response, 'k', RP), 'failed', 'the same response again');
    assert.match(JSON.stringify(lines.at(-1)), /unknown, used or expired challenge/);
    const o = (await svc.passkeyAuthenticationOptions(ALICE, RP))!;
    const assertion = auth.assert(o, RP.origin);
    assert.equal(await svc.verifyPasskeyAuthentication(ALICE, assertion, RP), 'ok');
    assert.equal(await svc.verifyPasskeyAuthentication(ALICE, assertion, RP), 'failed', 'a replayed assertion');
    const late = (await svc.passkeyAuthenticationOptions(ALICE, RP))!;
    t += CHALLENGE_MS;
    assert.equal(await svc.verifyPasskeyAuthentication(ALICE, auth.assert(late, RP.origin), RP), 'failed', 'expired');
    // A challenge issued for registration does not serve a sign-in, nor one made up by the client.
    const regAgain = await svc.passkeyRegistrationOptions(ALICE, 'alice', RP);
    assert.equal(await svc.verifyPasskeyAuthentication(ALICE, auth.assert({ challenge: regAgain.challenge, rpId: RP.id }, RP.origin), RP), 'failed');
    assert.equal(await svc.verifyPasskeyAuthentication(ALICE, auth.assert({ challenge: 'bWFkZS11cA', rpId: RP.id }, RP.origin), RP), 'failed');
  });

  it("a credential registered for one user cannot sign in another, nor be registered by another", async () => {
    const svc = instance();
    const alices = await registerOne(svc);
    const bobs = await registerOne(svc, new SoftAuthenticator(), 'LAB\\bob');
    const o = (await svc.passkeyAuthenticationOptions('LAB\\bob', RP))!;
    assert.equal(await svc.verifyPasskeyAuthentication('LAB\\bob', alices.assert(o, RP.origin, { userHandle: null }), RP), 'failed');
    assert.match(JSON.stringify(lines.at(-1)), /credential not registered for this user/);
    // Alice's challenge, Alice's credential, but presented as Bob: the challenge is not Bob's.
    const oa = (await svc.passkeyAuthenticationOptions(ALICE, RP))!;
    assert.equal(await svc.verifyPasskeyAuthentication('LAB\\bob', alices.assert(oa, RP.origin), RP), 'failed');
    // Bob's own credential answering with Alice's user handle.
    const ob = (await svc.passkeyAuthenticationOptions('LAB\\bob', RP))!;
    assert.equal(await svc.verifyPasskeyAuthentication('LAB\\bob', bobs.assert(ob, RP.origin, { userHandle: webauthnUserId(ALICE).toString('base64url') }), RP), 'failed');
    assert.match(JSON.stringify(lines.at(-1)), /user handle of another user/);
    const reg = await svc.passkeyRegistrationOptions('LAB\\bob', 'bob', RP);
    assert.equal(await svc.verifyPasskeyRegistration('LAB\\bob', alices.register(reg, RP.origin), 'stolen', RP), 'failed');
    assert.match(JSON.stringify(lines.at(-1)), /credential already registered/);
    assert.deepEqual((await svc.enrolment('LAB\\bob')).passkeys.map((p) => p.id), [bobs.id]);
  });

  it('the wrong origin, RP id, ceremony type, a missing user presence or a bad signature: failed, never thrown', async () => {
    const svc = instance();
    const auth = new SoftAuthenticator();
    for (const c of [{ origin: 'https://evil.example' }, { rpId: 'evil.example' }, { type: 'webauthn.get' }, { flags: FLAG_UV | FLAG_AT }]) {
      const o = await svc.passkeyRegistrationOptions(ALICE, 'alice', RP);
      assert.equal(await svc.verifyPasskeyRegistration(ALICE, auth.register(o, RP.origin, c), 'k', RP), 'failed', JSON.stringify(c));
    }
    assert.deepEqual((await svc.enrolment(ALICE)).passkeys, []);
    await registerOne(svc, auth);
    for (const c of [{ origin: 'http://mail.example.com' }, { rpId: 'example.com' }, { type: 'webauthn.create' }, { flags: FLAG_UV }]) {
      const o = (await svc.passkeyAuthenticationOptions(ALICE, RP))!;
      assert.equal(await svc.verifyPasskeyAuthentication(ALICE, auth.assert(o, RP.origin, c), RP), 'failed', JSON.stringify(c));
    }
    const o = (await svc.passkeyAuthenticationOptions(ALICE, RP))!;
    const good = auth.assert(o, RP.origin);
    const sig = Buffer.from(good.response.signature, 'base64url');
    sig[sig.length - 1]! ^= 1;
    assert.equal(await svc.verifyPasskeyAuthentication(ALICE, { ...good, response: { ...good.response, signature: sig.toString('base64url') } }, RP), 'failed');
    // Garbage from the browser: fail, do not throw.
    for (const junk of [{}, { response: {} }, { id: 1, response: { clientDataJSON: '!!!' } }, null]) {
      assert.equal(await svc.verifyPasskeyAuthentication(ALICE, junk as never, RP), 'failed');
      assert.equal(await svc.verifyPasskeyRegistration(ALICE, junk as never, 'k', RP), 'failed');
    }
    assert.ok(lines.filter((l) => l.level === 'warn').every((l) => typeof (l.obj as { reason?: unknown }).reason === 'string'));
  });

  it('a signature counter that does not advance is refused (a cloned authenticator); one that stays 0 is fine', async () => {
    const svc = instance();
    const auth = await registerOne(svc, new SoftAuthenticator(5));
    const o = (await svc.passkeyAuthenticationOptions(ALICE, RP))!;
    assert.equal(await svc.verifyPasskeyAuthentication(ALICE, auth.assert(o, RP.origin), RP), 'ok'); // 6
    auth.counter = 5; // the clone signs 6 again
    const o2 = (await svc.passkeyAuthenticationOptions(ALICE, RP))!;
    assert.equal(await svc.verifyPasskeyAuthentication(ALICE, auth.assert(o2, RP.origin), RP), 'failed');
    const zero = await registerOne(svc, new SoftAuthenticator(0), ALICE, 'no counter');
    for (let i = 0; i < 2; i++) {
      const oz = (await svc.passkeyAuthenticationOptions(ALICE, RP))!;
      assert.equal(await svc.verifyPasskeyAuthentication(ALICE, zero.assert(oz, RP.origin), RP), 'ok');
    }
  });
});

describe('reset', () => {
  it("forgets the user's TOTP (active and pending) and passkeys, and nothing of another user", async () => {
    const svc = instance();
    const secret = await enrol(svc);
    await svc.startTotp(ALICE, 'alice', 'Org');
    const o = await svc.passkeyRegistrationOptions(ALICE, 'alice', RP);
    assert.equal(await svc.verifyPasskeyRegistration(ALICE, new SoftAuthenticator().register(o, RP.origin), 'k', RP), 'ok');
    await enrol(svc, 'LAB\\bob');
    assert.deepEqual(await svc.reset('lab\\ALICE'), { totp: true, passkeys: 1 });
    assert.deepEqual(await svc.enrolment(ALICE), { totp: false, passkeys: [] });
    t += 30_000;
    assert.equal(await svc.verifyTotp(ALICE, await codeAt(secret, t)), 'not-enrolled');
    assert.equal(await svc.confirmTotp(ALICE, '000000'), 'no-pending');
    assert.equal((await svc.enrolment('LAB\\bob')).totp, true);
    assert.deepEqual(await svc.reset(ALICE), { totp: false, passkeys: 0 });
    assert.deepEqual(lines.filter((l) => l.msg === 'second factor: reset').map((l) => l.obj), [
      { user: 'lab\\ALICE', totp: true, passkeys: 1 },
      { user: ALICE, totp: false, passkeys: 0 },
    ]);
  });
});
