// The admin endpoint: this feature's section of the configuration.
import { z } from 'zod';
import { duration } from '../vocabulary/duration.js';

export const CONSOLE_ROLES = ['viewer', 'operator'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

const consoleAccount = z
  .object({
    login: z.string().regex(/^[\w.@-]{1,64}$/, 'letters, digits, dot, @, - and _ (at most 64)').describe('Sign-in name; the audit trail names the operator as console:<login>.'),
    passwordHash: z
      .string()
      .startsWith('$argon2id$', 'an argon2id hash ($argon2id$...): make one with portcullis admin hash-password')
      .describe('argon2id hash of the password (PHC string), made by `portcullis admin hash-password` (reads the password from stdin).'),
    role: z.enum(CONSOLE_ROLES).describe('viewer: reads everything, acts on nothing; operator: also revokes, unrevokes, unlocks, closes connections and reloads.'),
  })
  .strict();

export const consoleSchema = z
  .object({
    accounts: z.array(consoleAccount).default([]).describe('Local console accounts (argon2id password hashes).'),
    directoryGroups: z
      .array(
        z
          .object({
            group: z.string().min(1).describe('Directory group (nested membership counts) whose members may sign in with their directory password.'),
            role: z.enum(CONSOLE_ROLES).describe('Role of the group\'s members.'),
          })
          .strict(),
      )
      .default([])
      .describe('Directory groups whose members sign in with their directory password (LDAP bind); the first group that matches gives the role, and an operator group wins over a viewer group.'),
    idleTimeout: duration('Session ends after this long without a request.').prefault('15m'),
    absoluteTimeout: duration('Session ends this long after sign-in, however active.').prefault('8h'),
    signInLimit: z
      .object({
        perAccount: z.number().int().min(1).default(5).describe('Failed sign-ins of one account from one client address within the window before further attempts from there are refused (5 × this many over all addresses). A browser where the account signed in before (a device cookie, 30 days) counts its own failures apart, so nobody else, even on the same address, can lock the operator out.'),
        perAddress: z.number().int().min(1).default(20).describe('Failed sign-ins per client address within the window before further attempts are refused.'),
        window: duration('Window in which failed sign-ins are counted (and how long a limited account or address waits).').prefault('15m'),
      })
      .strict()
      .prefault({})
      .describe('Rate limit of failed console sign-ins (each failure is on the audit record).'),
  })
  .strict()
  .optional()
  .describe('The web console under /console/ on the admin listener (server-rendered, sign-in required); absent: no console.');

export type ConsoleConfig = NonNullable<z.output<typeof consoleSchema>>;

export const adminSchema = z
  .object({
    address: z
      .string()
      .default('127.0.0.1')
      .describe('Admin endpoint address. Keep it on loopback unless admin.tls is set (config check warns otherwise).'),
    port: z.number().int().min(0).max(65535).describe('Admin endpoint port (revoke, connections, reload).'),
    tokenFile: z
      .string()
      .min(1)
      .default('admin.token')
      .describe(
        'File with the bearer token every admin request must carry (Authorization: Bearer), relative to this config file. ' +
          'Missing at start: a random token is written there (mode 0600) and printed once. Empty or shorter than 32 characters: the gateway does not start.',
      ),
    allowedHosts: z
      .array(z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[^:[\]\s/@]+)(:\d{1,5})?$/, 'a name or address as sent in Host, optionally :port (IPv6 in brackets)'))
      .default([])
      .describe(
        'More names (name or name:port) clients may reach the admin endpoint by, as sent in Host. Its own address, localhost, 127.0.0.1 ' +
          'and [::1] at its port are always accepted; any other Host is refused (DNS rebinding).',
      ),
    metrics: z
      .boolean()
      .default(true)
      .describe('Serve Prometheus metrics at /metrics (with the admin token), added up over every worker process.'),
    tls: z
      .object({
        cert: z.string().min(1).describe('PEM certificate (chain) file, relative to this config file.'),
        key: z.string().min(1).describe('PEM private key file, relative to this config file.'),
      })
      .strict()
      .optional()
      .describe('Serve the admin endpoint over HTTPS with this certificate (the console\'s session cookie is then Secure); absent: plain HTTP, keep it on loopback.'),
    console: consoleSchema,
  })
  .strict()
  .optional()
  .describe('Local admin endpoint (revoke, unlock, explain, connections, reload, metrics); absent: no admin endpoint.');

export type AdminConfig = NonNullable<z.output<typeof adminSchema>>;
