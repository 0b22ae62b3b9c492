// Seals what a session keeps of Exchange's (its cookies, or a Basic vdir's password) before it
// goes to the session store: AES-256-GCM with a key from a file, bound to the user it belongs to
// (the additional data), so a row copied to another user's session does not open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface SessionSeal {
  seal(plain: string, userKey: string): string;
  /** undefined when the text was not sealed with this key for this user. */
  open(sealed: string, userKey: string): string | undefined;
}

export function sealWithKey(key: Buffer): SessionSeal {
  if (key.length !== 32) throw new Error('the session key must be 32 bytes');
  return {
    seal(plain, userKey) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(Buffer.from(userKey.toLowerCase(), 'utf8'));
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
    },
    open(sealed, userKey) {
      try {
        const b = Buffer.from(sealed, 'base64url');
        const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
        d.setAAD(Buffer.from(userKey.toLowerCase(), 'utf8'));
        d.setAuthTag(b.subarray(12, 28));
        return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * The key in `file` (base64 of 32 bytes), written with mode 0600 at the first start when missing.
 * A file that holds something else stops the start with one line saying what to do.
 */
export function loadSessionKey(file: string): Buffer {
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`signin key file ${file}: ${(e as Error).message}`);
  }
  if (text === undefined) {
    const key = randomBytes(32);
    mkdirSync(path.dirname(file), { recursive: true });
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, `${key.toString('base64')}\n`);
    } finally {
      closeSync(fd);
    }
    return key;
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error(`signin key file ${file} does not hold 32 bytes in base64: delete it to have one generated (every worker and instance sharing sessions needs the same file), or write one (openssl rand -base64 32)`);
  return key;
}
