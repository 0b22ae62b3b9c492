// Identity sources beyond the directory: this feature's section of the configuration.
import { z } from 'zod';

export const identitySchema = z
  .object({
    bearer: z
      .object({
        jwksFile: z.string().optional().describe('JWKS file with the keys Bearer tokens must verify against.'),
        pemFile: z.string().optional().describe('PEM public key Bearer tokens must verify against.'),
        issuer: z.string().optional().describe('Required iss claim.'),
        audience: z.string().optional().describe('Required aud claim.'),
      })
      .strict()
      .optional()
      .describe('Bearer (OAuth) identity: only a JWT that verifies names a user; anything else is unidentified.'),
  })
  .strict()
  .optional()
  .describe('Identity sources beyond the directory.');

export type IdentityConfig = NonNullable<z.output<typeof identitySchema>>;
