import { z } from 'zod';
import { DEFAULT_STRIPPED_HEADERS } from './diagnostic-headers.js';
import { PROTOCOLS } from '../vocabulary/protocols.js';

export { DEFAULT_ALLOWED_PATHS } from './published-paths.js';

const ZONE = z.enum(['external', 'internal']);

const pathRule = z
  .object({
    path: z.string().startsWith('/').describe("Canonical path: exact, or a folder when it ends in '/'; '*' stands for one segment (/oab/*/)."),
    handlers: z
      .array(z.string().min(1))
      .optional()
      .describe("Below the folder, the only .aspx/.ashx/.asmx/.svc/.owa/... handlers allowed, relative to it ('*' within a segment: '*/*.svc'); every other handler is refused."),
    extensions: z.array(z.string().min(1)).optional().describe('Below the folder, other files must have one of these extensions (static folders).'),
    explicitLogon: z.boolean().optional().describe('Skip a first segment holding @ (OWA/ECP explicit logon: /owa/shared@contoso.com/).'),
  })
  .strict();

const pathEntry = z
  .union([z.string().startsWith('/'), pathRule])
  .describe("A path: a string is exact, or every path below it when it ends in '/'; an object adds handler and extension limits.");

const paths = z.partialRecord(z.enum(PROTOCOLS), z.array(pathEntry));

const headerName = z.string().regex(/^[!#$%&'+.^_`|~0-9A-Za-z-]+\*?$/, "a header name, optionally ending in '*' (prefix)");

export const edgeSchema = z
  .object({
    zones: z.array(ZONE).default(['external']).describe('Zones the path allow-list, RPC targets and offered schemes apply to (exploit shapes are refused everywhere).'),
    allowedPaths: paths
      .optional()
      .describe(
        'Per-protocol canonical path allow-list, replacing the default list of that protocol (src/classify/published-paths.ts). ' +
          'The first entry covering a path decides. Web-shell shapes (handlers in static folders) stay refused whatever is listed here.',
      ),
    additionalPaths: paths
      .prefault({})
      .describe('Per-protocol entries checked before the allow-list, to publish one more path (e.g. /ews/mrsproxy.svc) without restating the defaults.'),
    rpcTargets: z
      .object({
        hosts: z
          .array(z.string().min(1))
          .default([])
          .describe('RPC server-name patterns (* is a wildcard). Mailbox GUID@<accepted domain> is always allowed.'),
        ports: z.array(z.number().int().min(1).max(65535)).default([6001, 6002, 6004]).describe('RPC ports allowed (6001 store, 6002 referral, 6004 NSPI).'),
      })
      .strict()
      .prefault({})
      .describe('Like the RPC proxy\'s ValidPorts: only these server:port pairs are reachable through /rpc/rpcproxy.dll.'),
    offeredSchemes: z
      .partialRecord(z.enum(PROTOCOLS), z.array(z.enum(['Negotiate', 'NTLM', 'Basic', 'Bearer'])))
      .prefault({})
      .describe('Authentication schemes offered to clients in these zones, per protocol (others are removed from 401 answers).'),
    responseHeaders: z
      .object({
        zones: z.array(ZONE).default(['external']).describe('Zones whose clients never see these response headers.'),
        strip: z
          .array(headerName)
          .default([...DEFAULT_STRIPPED_HEADERS])
          .describe("Exchange response headers removed (case-insensitive; 'X-Backend-Diag-*' is a prefix). Replaces the default list, which names servers and versions."),
      })
      .strict()
      .prefault({})
      .describe('Exchange diagnostic headers (X-FEServer, X-BEServer, X-CalculatedBETarget, X-DiagInfo, X-OWA-Version, Server, ...) removed from every forwarded answer.'),
  })
  .strict();

export type EdgeConfig = z.output<typeof edgeSchema>;
