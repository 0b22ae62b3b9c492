import { readFileSync } from 'node:fs';
import { type CryptoKey, type JWTVerifyGetKey, createLocalJWKSet, importSPKI, jwtVerify } from 'jose';
import type { Claim } from '../vocabulary/claim.js';
import { claimOfLogon } from './basic.js';

export interface BearerConfig {
  readonly jwksFile?: string | undefined;
  readonly pemFile?: string | undefined;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
}

export type BearerResult = { readonly ok: true; readonly claim: Claim } | { readonly ok: false; readonly error: string };

export interface BearerVerifier {
  verify(token: string): Promise<BearerResult>;
}

/**
 * Identity from `Authorization: Bearer` only when the JWT verifies against configured keys; an
 * unverified token yields no identity (Exchange may still accept it, but policy sees "unidentified").
 */
export async function bearerVerifier(cfg: BearerConfig): Promise<BearerVerifier> {
  let key: JWTVerifyGetKey | CryptoKey | undefined;
  if (cfg.jwksFile) key = createLocalJWKSet(JSON.parse(readFileSync(cfg.jwksFile, 'utf8')));
  else if (cfg.pemFile) {
    const pem = readFileSync(cfg.pemFile, 'utf8');
    const alg = /BEGIN PUBLIC KEY/.test(pem) && pem.length < 400 ? 'ES256' : 'RS256';
    key = await importSPKI(pem, alg);
  }
  return {
    async verify(token) {
      if (!key) return { ok: false, error: 'no Bearer keys configured' };
      try {
        const opts = { ...(cfg.issuer ? { issuer: cfg.issuer } : {}), ...(cfg.audience ? { audience: cfg.audience } : {}) };
        const { payload } = typeof key === 'function' ? await jwtVerify(token, key, opts) : await jwtVerify(token, key, opts);
        const name = [payload['upn'], payload['unique_name'], payload['preferred_username'], payload['email']].find((v) => typeof v === 'string') as string | undefined;
        const claim = name ? claimOfLogon(name) : undefined;
        return claim ? { ok: true, claim } : { ok: false, error: 'JWT has no upn, unique_name, preferred_username or email' };
      } catch (e) {
        return { ok: false, error: `JWT rejected: ${(e as Error).message}` };
      }
    },
  };
}
