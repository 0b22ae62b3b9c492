// The `signin:` section: browser sign-in at the gateway for OWA and ECP (issue #15). Only
// config/schema.ts imports it; src/signin takes this section's type, never GatewayConfig.
import { z } from 'zod';
import { duration } from '../vocabulary/duration.js';
import { secondFactorSchema } from './second-factor-schema.js';

const ZONE = z.enum(['external', 'internal']);
export const SIGNIN_PROTOCOLS = ['owa', 'ecp'] as const;
export type SigninProtocol = (typeof SIGNIN_PROTOCOLS)[number];

const exchangeSignIn = z
  .enum(['forms', 'basic'])
  .describe(
    "How the gateway signs a user in to this virtual directory on their behalf: forms (POST /owa/auth.owa, Exchange's forms-based sign-in; its cadata cookies stay in the gateway) " +
      'or basic (the virtual directory uses Basic authentication: the password, sealed, stays in the gateway session and goes upstream with each request).',
  );

export const signinSchema = z
  .object({
    zones: z
      .array(ZONE)
      .min(1)
      .default(['external'])
      .describe(
        'Zones whose browsers sign in at the gateway: a request for /owa or /ecp that carries no Authorization header and no gateway session gets the sign-in page. ' +
          'Clients that authenticate with NTLM, Basic or Bearer are handled as before.',
      ),
    protocols: z.array(z.enum(SIGNIN_PROTOCOLS)).min(1).default(['owa', 'ecp']).describe('Virtual directories behind the sign-in page.'),
    organisation: z.string().min(1).max(80).default('Outlook on the web').describe('The organisation name the sign-in page shows (and the TOTP issuer authenticator apps show).'),
    logo: z
      .string()
      .min(1)
      .optional()
      .describe('An image file (.png, .svg, .jpg, .gif; at most 256 KiB) shown on the sign-in page, relative to this config file. Read at start and reload.'),
    passwordChangeUrl: z
      .string()
      .url()
      .refine((u) => u.startsWith('https://'), 'an https:// address')
      .optional()
      .describe(
        "Where users change an expired password (your self-service password page). The sign-in page links to it when the directory or Exchange says a user's password, given right, has expired; " +
          "Exchange's own change page (expiredpassword.aspx) stays refused: it checks passwords past the gateway's lockout.",
      ),
    exchangeSignIn: z
      .object({ owa: exchangeSignIn.default('forms'), ecp: exchangeSignIn.default('forms') })
      .strict()
      .prefault({})
      .describe('Per virtual directory: forms (Exchange default) or basic.'),
    idleTimeout: duration('A session unused this long ends (the user signs in again).').prefault('30m'),
    absoluteTimeout: duration('A session ends this long after sign-in, however busy.').prefault('10h'),
    addPasskeyWithin: duration(
      'A passkey can be added only this soon after signing in with the password and the second factor: a session cookie stolen later cannot add a passkey of its own (sign in again to add one).',
    ).prefault('10m'),
    failureTime: duration(
      'A failed sign-in is answered no sooner than this after the form arrived, whatever failed (unknown user, wrong password, not allowed, locked out), so the answer time tells nothing either.',
    ).prefault('1s'),
    secondFactor: secondFactorSchema
      .optional()
      .describe(
        'The second factor (TOTP, passkeys) that policy rules with secondFactor: required ask for: the key that seals TOTP secrets at rest. ' +
          'Without it such a rule cannot be met and `config check` says so.',
      ),
    keyFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        "The key that seals what a session keeps of Exchange's (its cookies, or the password with basic) in the session store: 32 random bytes, base64. " +
          'Default: signin.key in state.dataDir, generated at the first start (mode 0600). Every worker and instance sharing the sessions needs the same key.',
      ),
  })
  .strict()
  .describe(
    'Browser sign-in at the gateway for OWA and ECP: its own sign-in page (password, policy, a second factor where a rule asks for one), then the gateway signs the user in to Exchange; ' +
      "Exchange's session cookies stay in the gateway, the browser holds only the gateway's session cookie (docs/configuration/signin.md).",
  );

export type SigninConfig = z.output<typeof signinSchema>;
