// The hardened edge: request shapes refused before Exchange sees them. Pure functions over the
// request head, its canonical path and raw query; the table of published exploit shapes is data
// (EXPLOIT_SHAPES) so tests can walk it with the public identifiers it comes from.
import type { HeaderField } from '../http/headers.js';
import { hasDynamicSegment, ruleVerdict } from './path-rules.js';
import type { Protocol } from '../vocabulary/protocols.js';
import type { EdgeReason } from '../vocabulary/reasons.js';
import { WEB_SHELL_FOLDERS } from './published-paths.js';

export { pathAllowed } from './path-rules.js';

export type EdgeVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: EdgeReason; readonly message: string };

export interface EdgeRequest {
  readonly method: string;
  readonly target: string;
  /** Canonical path (lower-case, decoded). */
  readonly path: string;
  /** Raw query (after '?'). */
  readonly query: string;
  readonly protocol: Protocol;
  readonly headers: readonly HeaderField[];
}

export interface ExploitShape {
  readonly id: string;
  readonly cves: readonly string[];
  readonly description: string;
  readonly matches: (r: EdgeRequest, decodedTarget: string, cookies: ReadonlySet<string>) => boolean;
}

/** Cookies and headers only Exchange's front end may set for its back end. */
const ROUTING = ['x-beresource', 'x-anonresource', 'x-anonresource-backend', 'x-beserver', 'x-becalculatedtarget'];

export const EXPLOIT_SHAPES: readonly ExploitShape[] = [
  {
    id: 'backend-routing-cookie',
    cves: ['CVE-2021-26855'],
    description: 'ProxyLogon: X-BEResource / X-AnonResource cookies or headers steer the front end to an arbitrary back end (SSRF)',
    matches: (r, _t, cookies) => ROUTING.some((n) => cookies.has(n)) || r.headers.some((h) => ROUTING.includes(h.name.toLowerCase())),
  },
  {
    id: 'proxylogon-ecp',
    cves: ['CVE-2021-26855', 'CVE-2021-27065'],
    description: 'ProxyLogon second stage: proxyLogon.ecp (a front-end-to-back-end call) and the DDI virtual-directory reset that writes a web shell',
    // Only the front end calls proxyLogon.ecp/.owa on the back end. CVE-2021-27065 is the
    // WriteFileActivity of the Reset*VirtualDirectory DDI schemas: after SetObject put a script in
    // ExternalUrl, SetObject?schema=ResetOABVirtualDirectory writes the settings to FilePathName.
    // Other DDI calls (GetList, GetObject, SetObject on other schemas) are the ECP pages' own traffic.
    matches: (r, t) => /\/proxylogon\.(ecp|owa)(\/|$)/.test(r.path) || (/^\/ecp\/(.+\/)?ddi\/ddiservice\.svc(\/|$)/.test(r.path) && /[?&]schema=[^&]*reset[^&]*virtualdirectory/.test(t)),
  },
  {
    id: 'autodiscover-json-confusion',
    cves: ['CVE-2021-34473', 'CVE-2022-41040'],
    description: 'ProxyShell / ProxyNotShell: autodiscover.json with "@", "Email=" or a path in the query reaches other back-end vdirs',
    matches: (r, t) => {
      if (!t.includes('autodiscover.json')) return false;
      const q = t.slice(t.indexOf('?') + 1);
      return !r.path.startsWith('/autodiscover/autodiscover.json') || (t.includes('?') && /@|email=|\/|\\|\?/.test(q));
    },
  },
  {
    id: 'powershell-backend',
    cves: ['CVE-2021-34523', 'CVE-2022-41082'],
    description: 'ProxyShell: X-Rps-CAT impersonation token for the remote PowerShell back end',
    matches: (r, t) => t.includes('x-rps-cat') || r.headers.some((h) => h.name.toLowerCase() === 'x-rps-cat'),
  },
  {
    id: 'owassrf',
    cves: ['CVE-2022-41080'],
    description: 'OWASSRF: /owa/<mailbox>/powershell reaches remote PowerShell through OWA',
    matches: (r) => r.path.split('/').slice(2).includes('powershell'),
  },
  {
    id: 'web-shell',
    cves: ['CVE-2021-27065', 'CVE-2021-31207'],
    description: 'a web shell: a script handler (.aspx, .ashx, .asmx, .svc, .asp, .php, ...) in a folder that serves only static files or a fixed set of pages',
    // ProxyLogon wrote shells to owa/auth and aspnet_client, ProxyShell's mailbox export to the same
    // folders; attackers later reach them with plain GET/POST. The folders are published-paths.ts
    // WEB_SHELL_FOLDERS, checked in every zone and whatever edge.allowedPaths says.
    matches: (r) => hasDynamicSegment(r.path) && ruleVerdict(r.path, WEB_SHELL_FOLDERS) === false,
  },
  {
    id: 'proxytoken',
    cves: ['CVE-2021-33766'],
    description: 'ProxyToken: a SecurityToken cookie makes the ECP back end skip authentication',
    matches: (_r, _t, cookies) => cookies.has('securitytoken'),
  },
];

function cookieNames(headers: readonly HeaderField[]): Set<string> {
  const out = new Set<string>();
  for (const h of headers) {
    if (h.name.toLowerCase() !== 'cookie') continue;
    for (const part of h.value.split(';')) {
      const name = part.split('=')[0]!.trim().toLowerCase();
      if (name) out.add(name);
    }
  }
  return out;
}

function decodeLoosely(s: string): string {
  let out = s;
  for (let i = 0; i < 3; i++) {
    try {
      const next = decodeURIComponent(out);
      if (next === out) break;
      out = next;
    } catch {
      break;
    }
  }
  return out.toLowerCase();
}

/** The first published exploit shape the request has, if any. */
export function exploitShape(r: EdgeRequest): ExploitShape | undefined {
  const t = decodeLoosely(r.target);
  const cookies = cookieNames(r.headers);
  return EXPLOIT_SHAPES.find((s) => s.matches(r, t, cookies));
}

export interface RpcTargets {
  readonly hosts: readonly string[];
  readonly ports: readonly number[];
}

function glob(pattern: string): RegExp {
  const escaped = pattern.toLowerCase().replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\*/g, '[^:]*')}$`);
}

/**
 * The `server:port` of /rpc/rpcproxy.dll?server:port must be a mailbox GUID at an accepted domain
 * or match a configured host pattern, on an allowed port. A request without one may only be a
 * handshake or echo leg (no real body), which impacket sends before it knows the target.
 */
export function checkRpcTarget(query: string, contentLength: number, targets: RpcTargets, acceptedDomains: readonly string[]): EdgeVerdict {
  if (query === '') {
    return contentLength <= 0x10 ? { ok: true } : { ok: false, reason: 'rpc-target-missing', message: 'RPC channel without a server:port target' };
  }
  let q: string;
  try {
    q = decodeURIComponent(query).toLowerCase();
  } catch {
    return { ok: false, reason: 'rpc-target-malformed', message: 'RPC target is not valid percent-encoding' };
  }
  const m = /^([^:]{1,1024}):(\d{1,5})$/.exec(q);
  if (!m) return { ok: false, reason: 'rpc-target-malformed', message: 'RPC target is not server:port' };
  const [, host, port] = m;
  if (!targets.ports.includes(Number(port))) return { ok: false, reason: 'rpc-target-not-allowed', message: `RPC port ${port} is not allowed` };
  const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}@(.+)$/.exec(host!);
  if (guid && acceptedDomains.includes(guid[1]!)) return { ok: true };
  if (targets.hosts.some((h) => glob(h).test(host!))) return { ok: true };
  return { ok: false, reason: 'rpc-target-not-allowed', message: `RPC server ${host} is not an allowed target` };
}
