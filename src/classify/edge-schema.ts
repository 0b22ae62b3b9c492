import { z } from 'zod';
import { PROTOCOLS } from './protocols.js';

const ZONE = z.enum(['external', 'internal']);

/** Canonical paths (lower-case) each protocol may use; entries ending in '/' are prefixes. */
export const DEFAULT_ALLOWED_PATHS: Record<(typeof PROTOCOLS)[number], string[]> = {
  autodiscover: ['/autodiscover/autodiscover.xml', '/autodiscover/autodiscover.svc', '/autodiscover/autodiscover.json/v1.0/'],
  rpc: ['/rpc/rpcproxy.dll', '/rpcwithcert/rpcproxy.dll'],
  mapi: ['/mapi/emsmdb/', '/mapi/nspi/', '/mapi/emsmdb', '/mapi/nspi'],
  ews: ['/ews/exchange.asmx', '/ews/services.wsdl', '/ews/messages.xsd', '/ews/types.xsd', '/ews/exchange.asmx/'],
  eas: ['/microsoft-server-activesync', '/microsoft-server-activesync/'],
  owa: ['/owa', '/owa/'],
  ecp: ['/ecp', '/ecp/'],
  oab: ['/oab/'],
  powershell: ['/powershell', '/powershell/'],
  unknown: [],
};

export const edgeSchema = z
  .object({
    zones: z.array(ZONE).default(['external']).describe('Zones the edge rules apply to.'),
    allowedPaths: z
      .partialRecord(z.enum(PROTOCOLS), z.array(z.string().startsWith('/')))
      .optional()
      .describe('Per-protocol canonical path allow-list (replaces the default list of that protocol).'),
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
  })
  .strict();

export type EdgeConfig = z.output<typeof edgeSchema>;
