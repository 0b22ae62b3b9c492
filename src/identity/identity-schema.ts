// Identity sources beyond the directory: this feature's section of the configuration.
import { z } from 'zod';

export const identitySchema = z
  .object({
    bearer: z
      .object({
        jwksFile: z.string().optional().describe('JWKS file (the issuer\'s public keys: RSA, EC or Ed25519) Bearer tokens must verify against, relative to this config file.'),
        pemFile: z.string().optional().describe('PEM public key (or certificate) Bearer tokens must verify against, relative to this config file; give this or jwksFile. Only the algorithms the key can verify are accepted.'),
        issuer: z.string().optional().describe('Required iss claim (without it and audience, config check warns: a token for any application would do).'),
        audience: z.string().optional().describe('Required aud claim (Exchange\'s URL as the issuer names it).'),
      })
      .strict()
      .optional()
      .describe('Bearer (OAuth) identity: only a JWT that verifies, has not expired and carries exp names a user, by its upn or unique_name claim (never email or preferred_username, which users may change at some issuers); anything else is unidentified.'),
  })
  .strict()
  .optional()
  .describe('Identity sources beyond the directory.');

export type IdentityConfig = NonNullable<z.output<typeof identitySchema>>;
