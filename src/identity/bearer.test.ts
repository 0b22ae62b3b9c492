import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { type BearerConfig, type BearerVerifier, bearerVerifier } from './bearer.js';
import { readBearerKeys } from './bearer-keys.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bearer-'));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};
const verifierOf = (cfg: BearerConfig): BearerVerifier => {
  const v = bearerVerifier(cfg);
  assert.ok(v.ok, v.ok ? '' : v.problem);
  return v.verifier;
};
const ISS = 'https://sts.lab.example';
const AUD = 'https://mail.lab.example';

describe('Bearer identity', () => {
  it('names the user only when the JWT verifies against the configured JWKS', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const v = verifierOf({ jwksFile: file('jwks.json', JSON.stringify({ keys: [jwk] })), issuer: ISS, audience: AUD });
    const sign = (key: Parameters<SignJWT['sign']>[0], claims: Record<string, unknown>, exp = '5m') =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(ISS).setAudience(AUD).setExpirationTime(exp).sign(key);
    assert.deepEqual(await v.verify(await sign(privateKey, { upn: 'alice@lab.example' })), { ok: true, claim: { domain: '', user: 'alice@lab.example' } });
    const forged = await v.verify(await sign(other.privateKey, { upn: 'alice@lab.example' }));
    assert.equal(forged.ok, false);
    const expired = await v.verify(await sign(privateKey, { upn: 'alice@lab.example' }, '-1m'));
    assert.ok(!expired.ok && /exp/.test(expired.error));
    const noName = await v.verify(await sign(privateKey, { sub: 'x' }));
    assert.ok(!noName.ok && /no upn/.test(noName.error));
    const byEmail = await v.verify(await sign(privateKey, { email: 'alice@lab.example', preferred_username: 'alice@lab.example' }));
    assert.equal(byEmail.ok, false, 'email and preferred_username, which users may change at some issuers, name nobody');
    const forever = await v.verify(await new SignJWT({ upn: 'alice@lab.example' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(ISS).setAudience(AUD).sign(privateKey));
    assert.ok(!forever.ok && /exp/.test(forever.error), 'a token without exp names nobody');
    assert.equal((await v.verify('not.a.jwt')).ok, false);
    const none = verifierOf({});
    assert.equal((await none.verify(await sign(privateKey, { upn: 'a@b' }))).ok, false, 'no keys configured: never an identity');
  });

  it('a PEM public key of each kind verifies its own tokens (no guessing the algorithm from the file length)', async () => {
    for (const [kind, opts, alg] of [
      ['rsa', { modulusLength: 2048 }, 'RS256'],
      ['rsa', { modulusLength: 2048 }, 'PS384'],
      ['ec', { namedCurve: 'P-256' }, 'ES256'],
      ['ec', { namedCurve: 'P-384' }, 'ES384'],
      ['ed25519', {}, 'EdDSA'],
    ] as const) {
      const pair = generateKeyPairSync(kind as 'rsa', opts as { modulusLength: number });
      const pem = file(`${alg}.pem`, pair.publicKey.export({ type: 'spki', format: 'pem' }) as string);
      const v = verifierOf({ pemFile: pem, issuer: ISS, audience: AUD });
      const token = await new SignJWT({ upn: 'bob@lab.example' }).setProtectedHeader({ alg }).setIssuer(ISS).setAudience(AUD).setExpirationTime('5m').sign(pair.privateKey);
      assert.deepEqual(await v.verify(token), { ok: true, claim: { domain: '', user: 'bob@lab.example' } }, alg);
    }
  });

  it('refuses HS256 signed with the public key as its secret, and alg none (algorithm confusion)', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pemText = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const v = verifierOf({ pemFile: file('confusion.pem', pemText), issuer: ISS, audience: AUD });
    const hs = await new SignJWT({ upn: 'admin@lab.example' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISS).setAudience(AUD).setExpirationTime('5m').sign(Buffer.from(pemText));
    assert.equal((await v.verify(hs)).ok, false);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${b64({ alg: 'none' })}.${b64({ upn: 'admin@lab.example', iss: ISS, aud: AUD, exp: Math.floor(Date.now() / 1000) + 300 })}.`;
    assert.equal((await v.verify(unsigned)).ok, false);
  });

  it('a key file that cannot be used is one line naming the file, never an exception', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const pub = await exportJWK(publicKey);
    const cases: Array<[BearerConfig, RegExp]> = [
      [{ jwksFile: path.join(dir, 'missing.json') }, /Bearer JWKS file .*missing\.json: not found/],
      [{ jwksFile: file('bad.json', '{"keys": [') }, /bad\.json: not JSON/],
      [{ jwksFile: file('nokeys.json', '{"kty":"RSA"}') }, /no "keys" list/],
      [{ jwksFile: file('oct.json', JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })) }, /keys\[0\] is a shared secret/],
      [{ jwksFile: file('private.json', JSON.stringify({ keys: [await exportJWK(privateKey)] })) }, /keys\[0\] holds a private key/],
      [{ jwksFile: file('garbage.json', JSON.stringify({ keys: [pub, { kty: 'RSA', n: 'x' }] })) }, /keys\[1\] is not a usable public key/],
      [{ jwksFile: file('wrongalg.json', JSON.stringify({ keys: [{ ...pub, alg: 'ES256' }] })) }, /"alg" ES256 does not fit its rsa key/],
      [{ pemFile: file('text.pem', 'hello') }, /Bearer PEM key .*text\.pem: not a PEM public key/],
      [{ pemFile: file('priv.pem', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string) }, /holds a private key/],
      [{ pemFile: file('x25519.pem', generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }) as string) }, /x25519 key cannot verify a JWT/],
      [{ pemFile: file('rsa512.pem', generateKeyPairSync('rsa', { modulusLength: 512 }).publicKey.export({ type: 'spki', format: 'pem' }) as string) }, /a 512-bit rsa key cannot verify a JWT/],
      [{ jwksFile: file('tiny.json', JSON.stringify({ keys: [{ kty: 'RSA', n: 'xx', e: 'AQAB' }] })) }, /keys\[0\]/],
      [{ pemFile: '/dev/zero' }, /\/dev\/zero: not a regular file/],
      [{ jwksFile: dir }, /not a regular file/],
    ];
    for (const [cfg, want] of cases) {
      const r = readBearerKeys(cfg);
      assert.ok(!r.ok && want.test(r.problem) && !r.problem.includes('\n'), `${JSON.stringify(cfg)}: ${r.ok ? 'accepted' : r.problem}`);
      const v = bearerVerifier(cfg);
      assert.ok(!v.ok);
    }
  });
});
