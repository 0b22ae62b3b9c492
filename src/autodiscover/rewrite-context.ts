import type { Protocol } from '../vocabulary/protocols.js';
import type { Zone } from '../vocabulary/zones.js';

/** What a rewrite needs to know about the user and where they are. */
export interface RewriteContext {
  readonly zone: Zone;
  /** May the user use this protocol from this zone (the policy's answer)? */
  may(protocol: Protocol): boolean;
  /** Internal host -> published external host (lower-case). */
  readonly namespaces: ReadonlyMap<string, string>;
  /** Host names an external client may be told about (lower-case). */
  readonly published: ReadonlySet<string>;
  /** SMTP domains a redirectAddr may point to (lower-case). */
  readonly acceptedDomains: readonly string[];
}

export type Rewritten = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly error: string };

/** A host as an external client may see it: mapped through the namespace map, or undefined when unpublished. */
export function mapHost(host: string, ctx: RewriteContext): string | undefined {
  if (ctx.zone === 'internal') return host;
  const h = host.toLowerCase();
  const [name, port] = h.startsWith('[') ? [h, ''] : [h.split(':')[0]!, h.split(':')[1]];
  const mapped = ctx.namespaces.get(name) ?? (ctx.published.has(name) ? name : undefined);
  if (!mapped) return undefined;
  return port ? `${mapped}:${port}` : mapped;
}

/** A URL as an external client may see it, or undefined when its host is not published. */
export function mapUrl(url: string, ctx: RewriteContext): string | undefined {
  const m = /^(https?:\/\/)([^/?#]+)(.*)$/i.exec(url.trim());
  if (!m) return undefined;
  if (ctx.zone === 'external' && m[1]!.toLowerCase() !== 'https://') return undefined;
  const host = mapHost(m[2]!, ctx);
  return host === undefined ? undefined : `${m[1]}${host}${m[3]}`;
}

export function isUrl(s: string): boolean {
  return /^\s*https?:\/\//i.test(s);
}

/** Which protocol an Autodiscover element name belongs to (POX elements and SOAP setting names). */
export function protocolOfName(name: string): Protocol | undefined {
  if (/^(ASUrl|EwsUrl|EmwsUrl|OOFUrl|UMUrl|EwsPartnerUrl|SharingUrl)$/.test(name) || /(Ews|Emws)/.test(name)) return 'ews';
  if (/OABUrl$/i.test(name)) return 'oab';
  if (/^EcpUrl|Ecp/.test(name)) return 'ecp';
  if (/MapiHttp/i.test(name)) return 'mapi';
  if (/(WebClientUrl|OWAUrl)/i.test(name)) return 'owa';
  if (/(MobileSync|ActiveSync)/i.test(name)) return 'eas';
  if (/(MailboxServer|RpcClientServer|RpcHttp|Rpc)/.test(name)) return 'rpc';
  return undefined;
}
