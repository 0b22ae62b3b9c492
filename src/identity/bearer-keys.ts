// The public keys Bearer tokens must verify against (identity.bearer.jwksFile or pemFile), read
// and checked in one place for the runtime and `config check`: a file that cannot be read, is not
// JSON or PEM, or holds a key that could not verify a token is a one-line problem naming the file,
// never a stack trace at start or reload. Only asymmetric public keys: a shared secret ("oct") or a
// private key in a file of public keys is an admin's mistake the gateway refuses to build on.
import { type KeyObject, createPublicKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { type JSONWebKeySet, type JWTVerifyGetKey, createLocalJWKSet } from 'jose';
import { fileErrorWords } from '../yaml/file-errors.js';

export interface BearerKeyFiles {
  readonly jwksFile?: string | undefined;
  readonly pemFile?: string | undefined;
}

/** Verification keys with the algorithms a token signed by them may name (never HS*, never none). */
export type BearerKeys =
  | { readonly kind: 'jwks'; readonly getKey: JWTVerifyGetKey; readonly algorithms: string[] }
  | { readonly kind: 'pem'; readonly key: KeyObject; readonly algorithms: string[] };

export type BearerKeysResult = { readonly ok: true; readonly keys: BearerKeys | undefined } | { readonly ok: false; readonly problem: string };

const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALGS: Record<string, string> = { 'P-256': 'ES256', prime256v1: 'ES256', 'P-384': 'ES384', secp384r1: 'ES384', 'P-521': 'ES512', secp521r1: 'ES512' };

/** The JWS algorithms a public key can verify; undefined for a key no JWT could be checked with. */
export function algorithmsOf(key: KeyObject): string[] | undefined {
  if (key.type !== 'public') return undefined;
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      // JOSE verifiers (jose too) refuse RSA keys under 2048 bits: such a key would verify no token.
      return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048 ? RSA_ALGS : undefined;
    case 'ec': {
      const alg = EC_ALGS[String(key.asymmetricKeyDetails?.namedCurve)];
      return alg ? [alg] : undefined;
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return undefined;
  }
}

/** A key file is small: a special file (/dev/zero) or a huge one would hang or exhaust `config check`. */
const MAX_KEY_FILE = 1024 * 1024;

function keyKind(key: KeyObject): string {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  return bits ? `a ${bits}-bit ${key.asymmetricKeyType} key` : `a ${key.asymmetricKeyType} key`;
}

function readText(file: string, what: string): { ok: true; text: string } | { ok: false; problem: string } {
  try {
    const st = statSync(file);
    if (!st.isFile()) return { ok: false, problem: `${what} ${file}: not a regular file` };
    if (st.size > MAX_KEY_FILE) return { ok: false, problem: `${what} ${file}: larger than 1 MiB, not a key file` };
    return { ok: true, text: readFileSync(file, 'utf8') };
  } catch (e) {
    return { ok: false, problem: `${what} ${file}: ${fileErrorWords(e) ?? (e as Error).message}` };
  }
}

function readPem(file: string): BearerKeysResult {
  const r = readText(file, 'Bearer PEM key');
  if (!r.ok) return r;
  if (/-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(r.text)) {
    return { ok: false, problem: `Bearer PEM key ${file}: holds a private key; give the token issuer's public key (-----BEGIN PUBLIC KEY-----)` };
  }
  let key: KeyObject;
  try {
    key = createPublicKey(r.text);
  } catch {
    return { ok: false, problem: `Bearer PEM key ${file}: not a PEM public key or certificate` };
  }
  const algorithms = algorithmsOf(key);
  if (!algorithms) return { ok: false, problem: `Bearer PEM key ${file}: ${keyKind(key)} cannot verify a JWT (RSA of 2048 bits or more, EC P-256/384/521, or Ed25519)` };
  return { ok: true, keys: { kind: 'pem', key, algorithms } };
}

function readJwks(file: string): BearerKeysResult {
  const r = readText(file, 'Bearer JWKS file');
  if (!r.ok) return r;
  let set: unknown;
  try {
    set = JSON.parse(r.text);
  } catch (e) {
    return { ok: false, problem: `Bearer JWKS file ${file}: not JSON (${(e as Error).message})` };
  }
  const keys = typeof set === 'object' && set !== null ? (set as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) return { ok: false, problem: `Bearer JWKS file ${file}: no "keys" list (a JSON Web Key Set: {"keys": [...]})` };
  const algorithms = new Set<string>();
  for (const [i, jwk] of keys.entries()) {
    const at = `Bearer JWKS file ${file}: keys[${i}]`;
    if (typeof jwk !== 'object' || jwk === null) return { ok: false, problem: `${at} is not an object` };
    const j = jwk as Record<string, unknown>;
    if (j['kty'] === 'oct') return { ok: false, problem: `${at} is a shared secret (kty "oct"); only the issuer's public keys belong here` };
    if ('d' in j) return { ok: false, problem: `${at} holds a private key ("d"); give the public keys only` };
    let key: KeyObject;
    try {
      key = createPublicKey({ key: j as never, format: 'jwk' });
    } catch (e) {
      return { ok: false, problem: `${at} is not a usable public key (${(e as Error).message})` };
    }
    const algs = algorithmsOf(key);
    if (!algs) return { ok: false, problem: `${at}: ${keyKind(key)} cannot verify a JWT (RSA of 2048 bits or more, EC P-256/384/521, or Ed25519)` };
    if (typeof j['alg'] === 'string' && !algs.includes(j['alg'])) return { ok: false, problem: `${at}: "alg" ${j['alg']} does not fit its ${key.asymmetricKeyType} key` };
    for (const a of typeof j['alg'] === 'string' ? [j['alg']] : algs) algorithms.add(a);
  }
  return { ok: true, keys: { kind: 'jwks', getKey: createLocalJWKSet(set as JSONWebKeySet), algorithms: [...algorithms] } };
}

/** Reads the configured key file (JWKS first, as the schema documents); `keys` undefined when none is configured. */
export function readBearerKeys(cfg: BearerKeyFiles): BearerKeysResult {
  if (cfg.jwksFile) return readJwks(cfg.jwksFile);
  if (cfg.pemFile) return readPem(cfg.pemFile);
  return { ok: true, keys: undefined };
}
