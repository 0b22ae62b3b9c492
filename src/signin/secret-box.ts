// TOTP secrets at rest: AES-256-GCM under a key from a file (signin.secondFactor.keyFile), so a
// copy of state.sqlite or of the database alone yields no secret. Each sealed secret carries the
// id of its key (derived from the key, never configured: nothing to get wrong), so keys rotate:
// new secrets are sealed with the current key, old ones still open with a previous key. The user
// key is the GCM associated data, so a sealed secret copied into another user's row does not open.
// Any failure to open (unknown key, wrong key, tampered bytes) throws SecretBoxError: a caller
// never gets a secret it cannot trust, and the message never contains key or secret material.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import type { Sealed } from '../state/second-factor-store.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The layout's version, first byte of every sealed secret: a later layout can be told apart. */
const LAYOUT = 1;

export type SecretBoxProblem = 'unknown-key' | 'cannot-open' | 'bad-key-file';

export class SecretBoxError extends Error {
  readonly problem: SecretBoxProblem;
  constructor(problem: SecretBoxProblem, message: string) {
    super(message);
    this.name = 'SecretBoxError';
    this.problem = problem;
  }
}

export interface SecretKey {
  readonly id: string;
  readonly key: Buffer;
}

/** The key's id: a hash of it, short, and telling nothing of the key. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('portcullis second-factor key id\0').update(key).digest('hex').slice(0, 16);
}

export function keyOf(bytes: Buffer): SecretKey {
  if (bytes.length !== KEY_BYTES) throw new SecretBoxError('bad-key-file', `a key must be ${KEY_BYTES} bytes, not ${bytes.length}`);
  return { id: keyIdOf(bytes), key: Buffer.from(bytes) };
}

/** Reads a key file (base64 of 32 bytes, whitespace allowed); the error names the file, never its content. */
export function readKeyFile(file: string): SecretKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SecretBoxError('bad-key-file', `cannot read second-factor key file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const b64 = text.replace(/\s+/g, '');
  const bytes = Buffer.from(b64, 'base64');
  // Buffer.from skips characters outside the alphabet: re-encoding tells a typo from a key.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || bytes.length !== KEY_BYTES || bytes.toString('base64') !== b64) {
    throw new SecretBoxError('bad-key-file', `second-factor key file ${file} does not hold ${KEY_BYTES} bytes in base64: make one with \`portcullis second-factor keygen ${file}\``);
  }
  return keyOf(bytes);
}

/** A key file's mode bits when others than its owner and group can read it (said at start). */
export function keyFileExposure(file: string, platform: NodeJS.Platform = process.platform): string | undefined {
  if (platform === 'win32') return undefined;
  const mode = statSync(file).mode & 0o777;
  return mode & 0o004 ? `second-factor key file ${file} is readable by every local user (mode ${mode.toString(8).padStart(3, '0')}): chmod 600 it` : undefined;
}

/**
 * Writes a new random key to `file` (mode 0600) and returns its id. Refuses to replace an existing
 * file: the key in it may be the only way to read the secrets already stored.
 */
export function generateKeyFile(file: string): string {
  const key = randomBytes(KEY_BYTES);
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SecretBoxError(
      'bad-key-file',
      code === 'EEXIST' ? `${file} exists: a key in use must not be overwritten (to rotate, write the new key to another file, make it keyFile and list the old one in previousKeyFiles)` : `cannot create ${file}: ${code ?? (e as Error).message}`,
    );
  }
  try {
    writeSync(fd, `${key.toString('base64')}\n`);
  } finally {
    closeSync(fd);
  }
  return keyIdOf(key);
}

export class SecretBox {
  readonly #current: SecretKey;
  readonly #keys: ReadonlyMap<string, SecretKey>;

  constructor(current: SecretKey, previous: readonly SecretKey[] = []) {
    this.#current = current;
    this.#keys = new Map([...previous, current].map((k) => [k.id, k]));
  }

  /** The current key and every previous one, read from the files the config names. */
  static fromFiles(keyFile: string, previousKeyFiles: readonly string[] = []): SecretBox {
    return new SecretBox(readKeyFile(keyFile), previousKeyFiles.map(readKeyFile));
  }

  /** The id new secrets are sealed with. */
  get currentKeyId(): string {
    return this.#current.id;
  }

  /** Seals `secret` for `userKey` with the current key and a fresh random IV. */
  seal(secret: string, userKey: string): Sealed {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.#current.key, iv);
    c.setAAD(aad(this.#current.id, userKey));
    const body = Buffer.concat([c.update(secret, 'utf8'), c.final()]);
    return { keyId: this.#current.id, data: Buffer.concat([Buffer.of(LAYOUT), iv, c.getAuthTag(), body]).toString('base64url') };
  }

  /** Opens what `seal` made for the same user, with whichever configured key sealed it; throws otherwise. */
  open(sealed: Sealed, userKey: string): string {
    const k = this.#keys.get(sealed.keyId);
    if (!k) throw new SecretBoxError('unknown-key', `sealed with key ${sealed.keyId}, which is neither keyFile nor one of previousKeyFiles`);
    const raw = Buffer.from(sealed.data, 'base64url');
    if (raw.length < 1 + IV_BYTES + TAG_BYTES || raw[0] !== LAYOUT) throw new SecretBoxError('cannot-open', `sealed secret (key ${sealed.keyId}) is malformed`);
    const iv = raw.subarray(1, 1 + IV_BYTES);
    const tag = raw.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    try {
      const d = createDecipheriv('aes-256-gcm', k.key, iv, { authTagLength: TAG_BYTES });
      d.setAAD(aad(k.id, userKey));
      d.setAuthTag(tag);
      return Buffer.concat([d.update(raw.subarray(1 + IV_BYTES + TAG_BYTES)), d.final()]).toString('utf8');
    } catch {
      // GCM says only "unable to authenticate": the key, the bytes or the user do not match.
      throw new SecretBoxError('cannot-open', `sealed secret (key ${sealed.keyId}) failed authentication: altered, or sealed for another user`);
    }
  }
}

/** What the tag binds besides the ciphertext: the layout, the key id and the user (case-insensitive, as the store). */
function aad(keyId: string, userKey: string): Buffer {
  return Buffer.from(`portcullis-totp\0${LAYOUT}\0${keyId}\0${userKey.toLowerCase()}`, 'utf8');
}
