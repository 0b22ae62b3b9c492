import { z } from 'zod';
import { PROTOCOLS } from '../vocabulary/protocols.js';
import { parseCidr } from '../vocabulary/cidr.js';
import { duration } from '../vocabulary/duration.js';

const ZONE = z.enum(['external', 'internal']);

export const AUTH_KINDS = ['user', 'kerberos', 'unidentified'] as const;

const rule = z
  .object({
    name: z.string().min(1).describe('Shown in decisions, logs and audit as rule:<name>.'),
    effect: z.enum(['allow', 'deny']).describe('deny overrides allow: one matching deny rule refuses the request.'),
    protocols: z.array(z.enum(PROTOCOLS)).optional().describe('Protocols the rule covers (all when absent).'),
    zones: z.array(ZONE).optional().describe('Zones the rule covers (all when absent).'),
    groups: z.array(z.string()).optional().describe('Matches users in any of these groups (nested membership counts).'),
    users: z.array(z.string()).optional().describe('Matches these users (DOMAIN\\user or UPN).'),
    clientCidrs: z
      .array(z.string().refine((s) => parseCidr(s) !== undefined, { message: 'not a CIDR range' }))
      .optional()
      .describe('Matches clients whose address is in one of these ranges.'),
    authentication: z
      .array(z.enum(AUTH_KINDS))
      .optional()
      .describe('Who the rule applies to: identified users, Kerberos clients (user not visible), or unidentified clients. Default: user.'),
    secondFactor: z
      .enum(['required'])
      .optional()
      .describe(
        'required: a browser that signs in at the gateway (signin:) for a request this rule matches must also give a second factor (TOTP or a passkey), ' +
          'e.g. ECP always, OWA from the external zone. Every matching allow rule counts. Clients that authenticate with NTLM, Basic, Bearer or Kerberos cannot carry one: where such a rule matches they are refused (needs-second-factor), so put it on rules for owa and ecp.',
      ),
  })
  .strict();

export const policySchema = z
  .object({
    defaults: z
      .object({
        external: z.enum(['allow', 'deny']).default('deny').describe('Decision for the external zone when no rule matches.'),
        internal: z.enum(['allow', 'deny']).default('allow').describe('Decision for the internal zone when no rule matches.'),
      })
      .strict()
      .prefault({})
      .describe('Decision when no rule matches, per zone.'),
    kerberos: z
      .enum(['deny', 'allow-unidentified'])
      .default('deny')
      .describe('Kerberos inside Negotiate hides the user: deny it, or let rules with authentication: [kerberos] decide.'),
    stripNegotiate: z
      .array(ZONE)
      .default(['external'])
      .describe('Zones where "Negotiate" is removed from Exchange\'s 401 offers, so clients use NTLM and the user is visible.'),
    anonymousPaths: z
      .array(z.string().startsWith('/'))
      .default(['/autodiscover/autodiscover.json', '/owa/auth', '/owa/favicon.ico'])
      .describe('Canonical path prefixes Exchange may answer without authentication (everything else must be a 401 handshake leg).'),
    rules: z.array(rule).default([]).describe('Allow and deny rules; every matching rule counts and one matching deny refuses the request.'),
    healthProbes: z
      .array(ZONE)
      .default(['internal'])
      .describe(
        "Zones where anonymous GET/HEAD requests for the virtual directories' healthcheck.htm (/owa/healthcheck.htm, /ews/healthcheck.htm, …) pass to Exchange and its 200 reaches the client. " +
          'Default internal only: a load balancer or monitor inside probes Exchange through the gateway, while the page, which names the Exchange server, stays hidden from the Internet.',
      ),
  })
  .strict();

export const lockoutSchema = z
  .object({
    threshold: z.number().int().min(1).default(5).describe('Failed external logins per user before the user is blocked externally.'),
    window: duration('Window in which failures are counted.').prefault('15m'),
    cooldown: duration('How long a locked-out user is blocked externally.').prefault('15m'),
    attemptWait: duration(
      'How long a login waits for a free attempt slot: at most `threshold` unverified attempts per user are forwarded at once; further ones wait, then are refused as a wrong password would be.',
    ).prefault('5s'),
    attemptHold: duration(
      'How long an attempt Exchange neither accepts nor refuses (an RPC channel has no answer until it ends) holds its slot. A refusal that comes later is still counted.',
    ).prefault('10s'),
  })
  .strict();

export type PolicyConfig = z.output<typeof policySchema>;
export type PolicyRule = PolicyConfig['rules'][number];
export type LockoutConfig = z.output<typeof lockoutSchema>;

const zoneProtocol = z.enum(PROTOCOLS);

const zonePolicy = z
  .object({
    blockedProtocols: z.array(zoneProtocol).describe('Protocols refused outright in this zone, before any authentication.'),
    concealDenials: z
      .boolean()
      .describe(
        'Refusals before a password is proven look exactly like Exchange\'s answer to a wrong password (the request goes to Exchange without its credentials), ' +
          'so a client cannot learn which accounts exist, are allowed or are locked. The reason goes to the log with a reference id. ' +
          'Default: on for external, off for internal (explicit 403 with reasons).',
      ),
  })
  .strict();

export const zonesSchema = z
  .object({
    external: zonePolicy.partial().transform((v) => ({ blockedProtocols: v.blockedProtocols ?? ['unknown', 'ecp', 'powershell'], concealDenials: v.concealDenials ?? true })).prefault({}).describe('Clients of listeners (or clientZones ranges) in the external zone: the Internet.'),
    internal: zonePolicy.partial().transform((v) => ({ blockedProtocols: v.blockedProtocols ?? [], concealDenials: v.concealDenials ?? false })).prefault({}).describe('Clients of listeners (or clientZones ranges) in the internal zone: the company network.'),
  })
  .strict()
  .describe('What each zone may reach at all. External defaults refuse unknown paths, ECP and remote PowerShell.');

export type ZonesConfig = z.output<typeof zonesSchema>;
