// The configuration schema is the single source of truth: `config check` validates with it,
// `config schema` prints it as JSON Schema, and every field carries its documentation.
import { z } from 'zod';
import { PROTOCOLS } from '../classify/protocols.js';
import { parseCidr } from './cidr.js';
import { duration } from './duration.js';
import { directoryConfigSchema } from '../directory/directory-config.js';
import { lockoutSchema, policySchema } from '../policy/policy-schema.js';
import { autodiscoverSchema } from '../autodiscover/autodiscover-schema.js';
import { edgeSchema } from '../classify/edge-schema.js';

export const ZONES = ['external', 'internal'] as const;
export type Zone = (typeof ZONES)[number];

const protocol = z.enum(PROTOCOLS);
const zone = z.enum(ZONES);

const cidr = z
  .string()
  .refine((s) => parseCidr(s) !== undefined, { message: 'not a CIDR range (e.g. 10.0.0.0/8 or fd00::/8)' })
  .describe('An IPv4 or IPv6 range in CIDR notation.');

const certificate = z
  .object({
    cert: z.string().min(1).describe('PEM certificate chain file (leaf first), relative to this config file.'),
    key: z.string().min(1).describe('PEM private key file for the certificate.'),
    serverNames: z
      .array(z.string().min(1))
      .optional()
      .describe('SNI names this certificate answers for; defaults to the DNS names in its subjectAltName.'),
  })
  .strict();

export const DEFAULT_IDLE_TIMEOUTS = {
  rpc: '15m',
  mapi: '6m',
  eas: '61m',
  ews: '31m',
  autodiscover: '2m',
  owa: '5m',
  ecp: '5m',
  oab: '5m',
  powershell: '5m',
  unknown: '2m',
} as const;

const idleTimeouts = z
  .object(
    Object.fromEntries(
      PROTOCOLS.map((p) => [p, duration(`Idle time-out while a ${p} request is in flight.`).prefault(DEFAULT_IDLE_TIMEOUTS[p])]),
    ) as Record<(typeof PROTOCOLS)[number], z.ZodPrefault<ReturnType<typeof duration>>>,
  )
  .strict()
  .describe(
    'Per-protocol idle time-outs (no byte in either direction). Defaults sit above each protocol\'s own maximum: ' +
      'RPC channels 15 min, MAPI NotificationWait 5 min, EAS Ping 59 min, EWS streaming 30 min.',
  );

const listener = z
  .object({
    name: z.string().min(1).optional().describe('A name for logs and metrics.'),
    address: z.string().default('127.0.0.1').describe('Address to bind (IPv4 or IPv6).'),
    port: z.number().int().min(0).max(65535).describe('TCP port; 0 picks a free one (tests).'),
    zone: zone.default('external').describe('Zone of clients arriving here, unless a clientZones range says otherwise.'),
    tls: z
      .object({
        certificates: z
          .array(certificate)
          .min(1)
          .describe('Certificates chosen by SNI; the first is the default when no name matches.'),
        minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('Lowest TLS version accepted.'),
      })
      .strict(),
    clientZones: z
      .array(z.object({ cidr, zone }).strict())
      .default([])
      .describe('Client address ranges that override the listener zone (first match wins).'),
  })
  .strict();

const upstream = z
  .object({
    url: z
      .string()
      .url()
      .refine((u) => u.startsWith('https://'), { message: 'the upstream must be https://' })
      .describe('Base URL of the Exchange front end (https only).'),
    tls: z
      .object({
        ca: z
          .string()
          .optional()
          .describe('PEM CA file to verify the upstream certificate; the system store is used when absent.'),
        servername: z.string().optional().describe('SNI and verification name, when it differs from the URL host.'),
        insecure: z
          .boolean()
          .default(false)
          .describe('Skip certificate verification. Never in production: logged as a warning at every start.'),
      })
      .strict()
      .prefault({}),
    connectTimeout: duration('Time allowed to open the upstream TCP+TLS connection.').prefault('10s'),
    idleTimeouts: idleTimeouts.prefault({}),
  })
  .strict();

const http = z
  .object({
    maxHeadBytes: z.number().int().min(1024).max(1024 * 1024).default(64 * 1024).describe('Largest request head accepted.'),
    maxHeaders: z.number().int().min(8).max(1000).default(100).describe('Most header fields accepted in one head.'),
    headersTimeout: duration('Time a client has to send a complete request head.').prefault('30s'),
    keepAliveTimeout: duration('Idle time allowed between two requests on one connection.').prefault('2m'),
    forwardedHeaders: z
      .object({
        xForwardedFor: z.boolean().default(true).describe('Append the client address to X-Forwarded-For.'),
        xForwardedProto: z.boolean().default(true).describe('Set X-Forwarded-Proto: https.'),
        xForwardedHost: z.boolean().default(true).describe('Set X-Forwarded-Host to the Host the client asked for.'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const zonePolicy = z
  .object({
    blockedProtocols: z.array(protocol).describe('Protocols refused outright in this zone, before any authentication.'),
  })
  .strict();

const zones = z
  .object({
    external: zonePolicy.default({ blockedProtocols: ['unknown', 'ecp', 'powershell'] }),
    internal: zonePolicy.default({ blockedProtocols: [] }),
  })
  .strict()
  .describe('What each zone may reach at all. External defaults refuse unknown paths, ECP and remote PowerShell.');

export const configSchema = z
  .object({
    listeners: z.array(listener).min(1).describe('TLS listeners the gateway accepts clients on.'),
    upstream,
    http: http.prefault({}),
    zones: zones.prefault({}),
    directory: directoryConfigSchema.optional(),
    policy: policySchema.prefault({}).describe('Who may use which protocol from which zone.'),
    autodiscover: autodiscoverSchema.prefault({}).describe('Per-user Autodiscover rewriting and the published namespace.'),
    edge: edgeSchema.prefault({}).describe('Hardened edge: path allow-list, exploit shapes, RPC targets, offered schemes.'),
    lockout: lockoutSchema.prefault({}).describe('Smart lockout: stop forwarding a user\'s external logins after repeated failures.'),
    preauth: z
      .enum(['none', 'ldap'])
      .default('none')
      .describe('ldap: check Basic passwords with an LDAP bind before forwarding (needs the ldap directory).'),
    identity: z
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
      .optional(),
    admin: z
      .object({
        address: z.string().default('127.0.0.1').describe('Admin endpoint address (keep it on loopback).'),
        port: z.number().int().min(0).max(65535).describe('Admin endpoint port (revoke, connections, reload).'),
        tokenFile: z.string().optional().describe('File with a bearer token the admin endpoint requires.'),
      })
      .strict()
      .optional(),
    workers: z
      .union([z.number().int().min(1).max(64), z.literal('auto')])
      .default(1)
      .describe('Gateway processes sharing the listeners; auto: one per CPU. Revocations and lockouts are shared; a change needs a restart.'),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .describe('Portcullis gateway configuration.');

export type GatewayConfig = z.output<typeof configSchema>;
export type ListenerConfig = GatewayConfig['listeners'][number];
export type UpstreamConfig = GatewayConfig['upstream'];
