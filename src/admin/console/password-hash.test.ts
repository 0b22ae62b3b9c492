import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword, verifyPassword } from './password-hash.js';

describe('console password hashes', () => {
  it('are argon2id PHC strings that verify the password and nothing else', async () => {
    const h = await hashPassword('correct horse');
    assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await verifyPassword(h, 'correct horse'), true);
    assert.equal(await verifyPassword(h, 'correct horsE'), false);
    assert.equal(await verifyPassword(undefined, 'correct horse'), false);
    assert.equal(await verifyPassword('$argon2id$garbage', 'x'), false);
  });
});
