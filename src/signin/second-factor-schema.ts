// The `signin.secondFactor` section: the key that encrypts TOTP secrets at rest (secret-box.ts).
// Exported for the sign-in section to mount; only config/schema.ts imports feature schemas.
// Where the second factor's data lives is the `state:` section's choice (state.store), not this one's.
import { z } from 'zod';

export const secondFactorSchema = z
  .object({
    keyFile: z
      .string()
      .min(1)
      .describe(
        'File holding the key that encrypts TOTP secrets at rest: 32 random bytes, base64, readable only by the gateway ' +
          '(`portcullis second-factor keygen <file>` writes one, mode 0600). Relative to this config file. ' +
          'Losing it makes every enrolled authenticator app useless: users must enrol again (`portcullis second-factor reset`).',
      ),
    previousKeyFiles: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Keys used before a rotation, same format as keyFile: secrets sealed with them are still read, every new secret is sealed with keyFile. ' +
          'Each secret names the key that sealed it, so a key can be dropped from this list once no stored secret uses it.',
      ),
  })
  .strict()
  .describe('The second factor (TOTP and passkeys) of browser sign-in: how TOTP secrets are protected at rest.');

export type SecondFactorConfig = z.output<typeof secondFactorSchema>;
