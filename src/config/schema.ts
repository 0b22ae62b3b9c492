// The configuration schema is the single source of truth: `config check` validates with it,
// `config schema` prints it as JSON Schema, and every field carries its documentation.
import { z } from 'zod';
import { PROTOCOLS } from '../vocabulary/protocols.js';
import { parseCidr } from './cidr.js';
import { duration } from './duration.js';
import { directoryConfigSchema } from '../directory/directory-config.js';
import { lockoutSchema, policySchema } from '../policy/policy-schema.js';
import { autodiscoverSchema } from '../autodiscover/autodiscover-schema.js';
import { edgeSchema } from '../classify/edge-schema.js';
import { auditSchema } from '../audit/audit-schema.js';
import { INTERMEDIATE_CIPHERS, INTERMEDIATE_CURVES, cipherListProblem, curveListProblem } from '../listen/tls-defaults.js';

import { ZONES } from '../vocabulary/zones.js';

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
        ciphers: z
          .string()
          .min(1)
          .superRefine((v, ctx) => {
            const p = cipherListProblem(v);
            if (p) ctx.addIssue({ code: 'custom', message: p });
          })
          .default(INTERMEDIATE_CIPHERS)
          .describe(
            'OpenSSL cipher string: TLS 1.3 suites (TLS_…) and TLS 1.2 ciphers, colon-separated (naming no TLS_ suite keeps OpenSSL\'s TLS 1.3 defaults). Default: Mozilla "intermediate" ' +
              '(TLS 1.3 AES-GCM and ChaCha20; TLS 1.2 ECDHE-ECDSA/RSA and DHE-RSA with AES-GCM or ChaCha20-Poly1305; no CBC, SHA-1, CCM8, ARIA). ' +
              'Client-initiated renegotiation is always refused.',
          ),
        ecdhCurve: z
          .string()
          .min(1)
          .superRefine((v, ctx) => {
            const p = curveListProblem(v);
            if (p) ctx.addIssue({ code: 'custom', message: p });
          })
          .default(INTERMEDIATE_CURVES)
          .describe('Key-exchange groups, colon-separated, in preference order (Mozilla intermediate: X25519:prime256v1:secp384r1).'),
        honorCipherOrder: z
          .boolean()
          .default(false)
          .describe('Choose by the order of ciphers instead of the client\'s preference (off in Mozilla intermediate: every offered suite is strong).'),
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
    drainTimeout: duration(
      'On SIGTERM: listeners stop accepting, idle connections close, and exchanges in flight (an upload, an EWS call) get this long to finish; long-lived channels (RPC, NotificationWait, EAS Ping) still open then are closed.',
    ).prefault('30s'),
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

const connections = z
  .object({
    perSource: z
      .number()
      .int()
      .min(1)
      .default(1000)
      .describe(
        'Open connections one client address may hold across all listeners of a gateway process (each worker counts its own), TLS handshakes included; more are reset at accept. ' +
          'An Outlook client keeps several (MAPI or RPC channels per mailbox, EWS, OAB, Autodiscover), a phone one or two: 1,000 serves about a hundred users ' +
          'behind one NAT or carrier-grade NAT address. An office NAT or a load balancer that sends everyone through one address goes in perSourceExempt.',
      ),
    perSourceExempt: z
      .array(cidr)
      .default([])
      .describe('Client ranges without a per-source limit (office NAT egress, a load balancer doing SNAT); they still count toward total.'),
    ipv6PrefixLength: z
      .number()
      .int()
      .min(32)
      .max(128)
      .default(64)
      .describe('IPv6 clients are counted per prefix of this length (a /64 is one subscriber\'s network), so changing address does not escape perSource.'),
    total: z
      .union([z.number().int().min(1), z.literal('auto')])
      .default('auto')
      .describe(
        'Open client connections per gateway process, TLS handshakes included; more are reset at accept, so descriptors never run out for upstream ' +
          'connections, the admin endpoint and the other listeners. auto: half of (the open-file limit minus a reserve of a tenth, at most 1,000), ' +
          'as each client connection may also hold an upstream socket: 9,500 with ulimit -n 20000.',
      ),
    handshakeTimeout: duration('Time from accept to a completed TLS handshake; a slower or silent client is closed.').prefault('10s'),
  })
  .strict()
  .describe('Connection limits of the listeners, counted from accept; refusals are logged (at most one line per listener and cause per 10 s) and counted.');

const zonePolicy = z
  .object({
    blockedProtocols: z.array(protocol).describe('Protocols refused outright in this zone, before any authentication.'),
    concealDenials: z
      .boolean()
      .describe(
        'Refusals before a password is proven look exactly like Exchange\'s answer to a wrong password (the request goes to Exchange without its credentials), ' +
          'so a client cannot learn which accounts exist, are allowed or are locked. The reason goes to the log with a reference id. ' +
          'Default: on for external, off for internal (explicit 403 with reasons).',
      ),
  })
  .strict();

const zones = z
  .object({
    external: zonePolicy.partial().transform((v) => ({ blockedProtocols: v.blockedProtocols ?? ['unknown', 'ecp', 'powershell'], concealDenials: v.concealDenials ?? true })).prefault({}),
    internal: zonePolicy.partial().transform((v) => ({ blockedProtocols: v.blockedProtocols ?? [], concealDenials: v.concealDenials ?? false })).prefault({}),
  })
  .strict()
  .describe('What each zone may reach at all. External defaults refuse unknown paths, ECP and remote PowerShell.');

export const configSchema = z
  .object({
    listeners: z.array(listener).min(1).describe('TLS listeners the gateway accepts clients on.'),
    upstream,
    http: http.prefault({}),
    connections: connections.prefault({}),
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
        address: z
          .string()
          .default('127.0.0.1')
          .describe('Admin endpoint address. Keep it on loopback: the endpoint has no TLS yet (config check warns otherwise).'),
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
      })
      .strict()
      .optional(),
    health: z
      .object({
        address: z.string().default('0.0.0.0').describe('Address of the probe listener (the load balancer must reach it).'),
        port: z.number().int().min(0).max(65535).describe('Port of the plain-HTTP probe listener.'),
      })
      .strict()
      .optional()
      .describe('A dedicated plain-HTTP listener for load-balancer probes: GET /healthz (alive) and /readyz (ready, with causes); nothing else. The admin endpoint serves both too.'),
    workers: z
      .union([z.number().int().min(1).max(64), z.literal('auto')])
      .default(1)
      .describe('Gateway processes sharing the listeners; auto: one per CPU. Revocations and lockouts are shared; a change needs a restart.'),
    audit: auditSchema.prefault({}),
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
export type HttpConfig = GatewayConfig['http'];
export type AdminConfig = NonNullable<GatewayConfig['admin']>;
export type HealthConfig = NonNullable<GatewayConfig['health']>;
export type ZonesConfig = GatewayConfig['zones'];
