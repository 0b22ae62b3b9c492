import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { generateKeyFile, keyFileExposure, keyOf, readKeyFile, SecretBox, SecretBoxError } from './secret-box.js';
import { secondFactorSchema } from './second-factor-schema.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-box-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

const problem = (p: string, re: RegExp) => (e: unknown) => e instanceof SecretBoxError && e.problem === p && re.test(e.message) && !e.message.includes(SECRET);

describe('secret box', () => {
  it('seals and opens; the ciphertext holds nothing of the secret and differs each time', () => {
    const box = new SecretBox(keyOf(randomBytes(32)));
    const a = box.seal(SECRET, 'LAB\\alice');
    const b = box.seal(SECRET, 'LAB\\alice');
    assert.equal(a.keyId, box.currentKeyId);
    assert.notEqual(a.data, b.data, 'a fresh IV each time');
    assert.ok(!a.data.includes(SECRET) && !Buffer.from(a.data, 'base64url').toString('latin1').includes(SECRET));
    assert.equal(box.open(a, 'lab\\ALICE'), SECRET, 'the user key compares case-insensitively, as the store');
  });

  it('a wrong key, tampered bytes, another user or an unknown key id: an error, never a secret', () => {
    const box = new SecretBox(keyOf(randomBytes(32)));
    const other = new SecretBox(keyOf(randomBytes(32)));
    const s = box.seal(SECRET, 'LAB\\alice');
    assert.throws(() => other.open(s, 'LAB\\alice'), problem('unknown-key', /sealed with key [0-9a-f]{16}, which is neither keyFile nor one of previousKeyFiles/));
    // The same id but another key (a forged id): GCM refuses it.
    assert.throws(() => other.open({ keyId: other.currentKeyId, data: s.data }, 'LAB\\alice'), problem('cannot-open', /failed authentication/));
    const raw = Buffer.from(s.data, 'base64url');
    for (const at of [1, 13, 29, raw.length - 1]) {
      const t = Buffer.from(raw);
      t[at]! ^= 0x01;
      assert.throws(() => box.open({ keyId: s.keyId, data: t.toString('base64url') }, 'LAB\\alice'), problem('cannot-open', /failed authentication/), `byte ${at}`);
    }
    assert.throws(() => box.open(s, 'LAB\\bob'), problem('cannot-open', /sealed for another user/));
    assert.throws(() => box.open({ keyId: s.keyId, data: raw.subarray(0, 20).toString('base64url') }, 'LAB\\alice'), problem('cannot-open', /malformed/));
    const v2 = Buffer.from(raw);
    v2[0] = 2;
    assert.throws(() => box.open({ keyId: s.keyId, data: v2.toString('base64url') }, 'LAB\\alice'), problem('cannot-open', /malformed/));
  });

  it('rotation: a previous key still opens what it sealed; new secrets use the current key', () => {
    const oldFile = path.join(dir, 'old.key');
    const newFile = path.join(dir, 'new.key');
    const oldId = generateKeyFile(oldFile);
    const newId = generateKeyFile(newFile);
    assert.notEqual(oldId, newId);
    const before = SecretBox.fromFiles(oldFile);
    const sealedOld = before.seal(SECRET, 'LAB\\alice');
    assert.equal(sealedOld.keyId, oldId);
    const rotated = SecretBox.fromFiles(newFile, [oldFile]);
    assert.equal(rotated.open(sealedOld, 'LAB\\alice'), SECRET);
    const sealedNew = rotated.seal(SECRET, 'LAB\\alice');
    assert.equal(sealedNew.keyId, newId);
    assert.throws(() => before.open(sealedNew, 'LAB\\alice'), problem('unknown-key', /./));
    assert.throws(() => SecretBox.fromFiles(newFile).open(sealedOld, 'LAB\\alice'), problem('unknown-key', new RegExp(oldId)), 'the old key dropped too early');
  });

  it('keygen writes 32 random bytes in base64, mode 0600, and never overwrites', () => {
    const f = path.join(dir, 'gen.key');
    const id = generateKeyFile(f);
    assert.equal(statSync(f).mode & 0o777, 0o600);
    assert.equal(Buffer.from(readFileSync(f, 'utf8').trim(), 'base64').length, 32);
    assert.equal(readKeyFile(f).id, id);
    const before = readFileSync(f, 'utf8');
    assert.throws(() => generateKeyFile(f), problem('bad-key-file', /exists: a key in use must not be overwritten/));
    assert.equal(readFileSync(f, 'utf8'), before);
    assert.throws(() => generateKeyFile(path.join(dir, 'no', 'such', 'dir.key')), problem('bad-key-file', /cannot create .*ENOENT/));
  });

  it('a key file that is missing, short or not base64 is refused naming the file, not its content', () => {
    const short = path.join(dir, 'short.key');
    writeFileSync(short, randomBytes(16).toString('base64'));
    assert.throws(() => readKeyFile(short), problem('bad-key-file', /short\.key does not hold 32 bytes in base64: make one with `portcullis second-factor keygen/));
    const junk = path.join(dir, 'junk.key');
    const content = `${randomBytes(32).toString('base64')}!`;
    writeFileSync(junk, content);
    assert.throws(() => readKeyFile(junk), (e: Error) => e instanceof SecretBoxError && !e.message.includes(content.slice(0, 20)));
    assert.throws(() => readKeyFile(path.join(dir, 'missing.key')), problem('bad-key-file', /cannot read second-factor key file .*missing\.key: ENOENT/));
    assert.throws(() => keyOf(randomBytes(31)), problem('bad-key-file', /32 bytes, not 31/));
    const spaced = path.join(dir, 'spaced.key');
    const k = randomBytes(32).toString('base64');
    writeFileSync(spaced, `  ${k.slice(0, 20)}\n${k.slice(20)}\n`);
    assert.equal(readKeyFile(spaced).key.toString('base64'), k, 'whitespace and line breaks are allowed');
  });

  it('says when a key file is readable by every local user', () => {
    const f = path.join(dir, 'exposed.key');
    generateKeyFile(f);
    assert.equal(keyFileExposure(f), undefined);
    chmodSync(f, 0o644);
    assert.match(keyFileExposure(f) ?? '', /readable by every local user \(mode 644\): chmod 600 it/);
    assert.equal(keyFileExposure(f, 'win32'), undefined);
  });

  it('the config section: keyFile required, previousKeyFiles defaults to none, unknown keys refused, every key described', () => {
    assert.deepEqual(secondFactorSchema.parse({ keyFile: 'k' }), { keyFile: 'k', previousKeyFiles: [] });
    assert.equal(secondFactorSchema.safeParse({}).success, false);
    assert.equal(secondFactorSchema.safeParse({ keyFile: 'k', keyfile: 'x' }).success, false);
    for (const [k, v] of Object.entries(secondFactorSchema.shape)) assert.ok(v.description && v.description.length > 20, k);
  });
});
