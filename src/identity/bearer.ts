import { jwtVerify } from 'jose';
import { readBearerKeys } from './bearer-keys.js';
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
 * Only the algorithms the keys can verify are accepted, so a token can never choose HS256 with a
 * public key as its secret, or none.
 */
export function bearerVerifier(cfg: BearerConfig): { ok: true; verifier: BearerVerifier } | { ok: false; problem: string } {
  const read = readBearerKeys(cfg);
  if (!read.ok) return read;
  const keys = read.keys;
  const verifier: BearerVerifier = {
    async verify(token) {
      if (!keys) return { ok: false, error: 'no Bearer keys configured' };
      try {
        // A token without an end would name its user for ever: exp is required.
        const opts = { algorithms: keys.algorithms, requiredClaims: ['exp'], ...(cfg.issuer ? { issuer: cfg.issuer } : {}), ...(cfg.audience ? { audience: cfg.audience } : {}) };
        const { payload } = keys.kind === 'jwks' ? await jwtVerify(token, keys.getKey, opts) : await jwtVerify(token, keys.key, opts);
        // Only the claims an issuer sets from the directory name the user: email and
        // preferred_username can be changed by users at some issuers.
        const name = [payload['upn'], payload['unique_name']].find((v) => typeof v === 'string') as string | undefined;
        const claim = name ? claimOfLogon(name) : undefined;
        return claim ? { ok: true, claim } : { ok: false, error: 'JWT has no upn or unique_name' };
      } catch (e) {
        return { ok: false, error: `JWT rejected: ${(e as Error).message}` };
      }
    },
  };
  return { ok: true, verifier };
}
