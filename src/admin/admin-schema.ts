// The admin endpoint: this feature's section of the configuration.
import { z } from 'zod';

export const adminSchema = z
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
  .optional()
  .describe('Local admin endpoint (revoke, unlock, explain, connections, reload, metrics); absent: no admin endpoint.');

export type AdminConfig = NonNullable<z.output<typeof adminSchema>>;
