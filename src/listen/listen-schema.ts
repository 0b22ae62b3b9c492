// The listeners and their connection limits: this feature's section of the configuration
// (config/schema.ts composes every section; nothing here imports it).
import { z } from 'zod';
import { parseCidr } from '../vocabulary/cidr.js';
import { duration } from '../vocabulary/duration.js';
import { ZONES } from '../vocabulary/zones.js';
import { INTERMEDIATE_CIPHERS, INTERMEDIATE_CURVES, cipherListProblem, curveListProblem } from './tls-defaults.js';

const zone = z.enum(ZONES);

export const cidr = z
  .string()
  .refine((s) => parseCidr(s) !== undefined, { message: 'not a CIDR range (e.g. 10.0.0.0/8 or fd00::/8)' })
  .describe('An IPv4 or IPv6 range in CIDR notation.');

/** A range of proxies to trust: never every address (then any client could name any address). */
const proxyRange = cidr.refine((s) => (parseCidr(s)?.prefix ?? 1) > 0, { message: 'a /0 range trusts every address, so any client could claim any address: name the proxies' });

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

export const listenerSchema = z
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
      .strict()
      .describe('TLS settings of this listener: its certificates and what it accepts of TLS.'),
    clientZones: z
      .array(z.object({ cidr, zone: zone.describe('Zone of clients whose address is in cidr.') }).strict())
      .default([])
      .describe('Client address ranges that override the listener zone (first match wins).'),
    proxyProtocol: z
      .boolean()
      .default(false)
      .describe(
        'Every connection starts with a PROXY protocol header (v1 or v2, before the TLS ClientHello) from a layer-4 load balancer in proxySources; ' +
          'the client address it carries is the one zones, limits, lockout, logs and policy see. A connection from any other source, or without a valid header, is reset.',
      ),
    proxySources: z
      .array(proxyRange)
      .default([])
      .describe('The load balancers allowed to send the PROXY header (required with proxyProtocol).'),
    proxyHeaderTimeout: duration('Time from accept to a complete PROXY header (proxyProtocol); the TLS handshake time-out still bounds the whole.').prefault('3s'),
    forwardedFor: z
      .object({
        trustedProxies: z
          .array(proxyRange)
          .min(1)
          .describe(
            'HTTP proxies whose X-Forwarded-For is believed. The client is the right-most address that is not a trusted proxy; from any other peer the header is ignored. ' +
              'A trusted proxy must send the header, and one connection must keep one client (NTLM authenticates the connection).',
          ),
      })
      .strict()
      .optional()
      .describe('Take the client address from X-Forwarded-For set by trusted HTTP proxies (off by default, also with proxyProtocol).'),
  })
  .strict()
  .superRefine((l, ctx) => {
    if (l.proxyProtocol && l.proxySources.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['proxySources'], message: 'proxyProtocol needs proxySources: the load balancer addresses allowed to send the PROXY header' });
    }
  });

export const connectionsSchema = z
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

export type ListenerConfig = z.output<typeof listenerSchema>;
export type ConnectionsConfig = z.output<typeof connectionsSchema>;
