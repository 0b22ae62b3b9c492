// Seals what a session keeps of Exchange's (its cookies, or a Basic vdir's password) before it
// goes to the session store: the second factor's secret box (secret-box.ts: AES-256-GCM, bound to
// the user it belongs to, so a row copied to another user's session does not open) under a key of
// its own (signin.keyFile), generated at the first start.
import { randomBytes } from 'node:crypto';
import { SecretBox, keyOf } from './secret-box.js';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface SessionSeal {
  seal(plain: string, userKey: string): string;
  /** undefined when the text was not sealed with this key for this user. */
  open(sealed: string, userKey: string): string | undefined;
}

export function sealWithKey(key: Buffer): SessionSeal {
  // The second factor's secret box (AES-256-GCM, key id and user bound into the tag), with this key.
  const box = new SecretBox(keyOf(key));
  return {
    seal(plain, userKey) {
      const s = box.seal(plain, userKey);
      return `${s.keyId}.${s.data}`;
    },
    open(sealed, userKey) {
      const dot = sealed.indexOf('.');
      if (dot <= 0) return undefined;
      try {
        return box.open({ keyId: sealed.slice(0, dot), data: sealed.slice(dot + 1) }, userKey);
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
