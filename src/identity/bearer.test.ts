import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { bearerVerifier } from './bearer.js';

describe('Bearer identity', () => {
  it('names the user only when the JWT verifies against the configured JWKS', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const file = path.join(os.tmpdir(), `jwks-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ keys: [jwk] }));
    const v = await bearerVerifier({ jwksFile: file, issuer: 'https://sts.lab.example', audience: 'https://mail.lab.example' });
    const sign = (key: Parameters<SignJWT['sign']>[0], claims: Record<string, unknown>, exp = '5m') =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://sts.lab.example').setAudience('https://mail.lab.example').setExpirationTime(exp).sign(key);
    assert.deepEqual(await v.verify(await sign(privateKey, { upn: 'alice@lab.example' })), { ok: true, claim: { domain: '', user: 'alice@lab.example' } });
    const forged = await v.verify(await sign(other.privateKey, { upn: 'alice@lab.example' }));
    assert.equal(forged.ok, false);
    const expired = await v.verify(await sign(privateKey, { upn: 'alice@lab.example' }, '-1m'));
    assert.ok(!expired.ok && /exp/.test(expired.error));
    const noName = await v.verify(await sign(privateKey, { sub: 'x' }));
    assert.ok(!noName.ok && /no upn/.test(noName.error));
    assert.equal((await v.verify('not.a.jwt')).ok, false);
    const none = await bearerVerifier({});
    assert.equal((await none.verify(await sign(privateKey, { upn: 'a@b' }))).ok, false, 'no keys configured: never an identity');
  });
});
