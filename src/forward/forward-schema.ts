// The upstream (Exchange) and the HTTP engine's limits and time-outs: this feature's sections of
// the configuration (config/schema.ts composes every section; nothing here imports it).
import { z } from 'zod';
import { duration } from '../vocabulary/duration.js';
import { PROTOCOLS } from '../vocabulary/protocols.js';

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

export const upstreamSchema = z
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
      .prefault({})
      .describe('How the upstream certificate is verified.'),
    connectTimeout: duration('Time allowed to open the upstream TCP+TLS connection.').prefault('10s'),
    idleTimeouts: idleTimeouts.prefault({}),
  })
  .strict()
  .describe('The Exchange front end every request is forwarded to, one upstream connection per client connection.');

export const httpSchema = z
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
      .prefault({})
      .describe('X-Forwarded-* fields the gateway adds towards Exchange (a client\'s own X-Forwarded-* fields are always dropped).'),
  })
  .strict()
  .describe('HTTP limits and time-outs on the client side.');

export type UpstreamConfig = z.output<typeof upstreamSchema>;
export type HttpConfig = z.output<typeof httpSchema>;
