// The client address behind trusted HTTP proxies (listener `forwardedFor.trustedProxies`).
// X-Forwarded-For is written by whoever sends the request: a client can put any address in it,
// and each proxy appends the address it received the request from. So only the entries appended
// by proxies the gateway trusts mean anything: walking from the right (the nearest hop), the
// first address that is not a trusted proxy is the client. Everything to its left is the client's
// own claim and is never read. From a peer that is not a trusted proxy the header is ignored.
import net from 'node:net';
import { plainAddress } from '../vocabulary/cidr.js';
import type { Zone } from '../vocabulary/zones.js';
import type { HeaderField } from '../http/headers.js';
import type { ConnectionContext } from '../forward/connection-context.js';
import type { GateVerdict, RequestGate } from '../forward/gate.js';

export type ForwardedClient =
  | { readonly kind: 'direct' }
  | { readonly kind: 'forwarded'; readonly address: string }
  | { readonly kind: 'error'; readonly message: string };

/** One X-Forwarded-For entry: an IP address, optionally "[v6]", "[v6]:port" or "v4:port" (some proxies add the port). */
function entryAddress(entry: string): string | undefined {
  const e = entry.trim();
  const bracket = /^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$/.exec(e);
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(e);
  const a = bracket?.[1] ?? v4port?.[1] ?? e;
  return net.isIP(a) ? plainAddress(a).address : undefined;
}

/**
 * Who the client is, given the peer the request came from (the TCP or PROXY-protocol address),
 * the X-Forwarded-For fields in order, and the trusted proxies. A trusted peer must say (no header,
 * an empty or malformed entry on the trusted side: an error, never a guess that would give the
 * client the proxy's own zone).
 */
export function clientFromForwardedFor(peer: string, headers: readonly HeaderField[], trusted: net.BlockList): ForwardedClient {
  const isTrusted = (a: string) => trusted.check(a, net.isIPv6(a) ? 'ipv6' : 'ipv4');
  if (!isTrusted(plainAddress(peer).address)) return { kind: 'direct' };
  const values = headers.filter((h) => h.name.toLowerCase() === 'x-forwarded-for').map((h) => h.value);
  if (values.length === 0) return { kind: 'error', message: 'a trusted proxy sent no X-Forwarded-For' };
  const entries = values.join(',').split(',');
  let address: string | undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    address = entryAddress(entries[i]!);
    if (address === undefined) return { kind: 'error', message: `X-Forwarded-For entry ${entries.length - i} from the right is not an IP address` };
    if (!isTrusted(address)) return { kind: 'forwarded', address };
  }
  // Every hop is a trusted proxy: the request started at the left-most one.
  return { kind: 'forwarded', address: address! };
}

export interface ForwardedForSettings {
  readonly config: { readonly forwardedFor?: { readonly trustedProxies: readonly string[] } | undefined };
  readonly trustedProxies?: net.BlockList | undefined;
  readonly zoneOf: (remote: string | undefined) => Zone;
}

const ALLOW: GateVerdict = { allow: true };

/**
 * The first gate: on a listener with forwardedFor, sets the connection's client address and zone
 * from its first request. A connection carries one client: a later request naming another is
 * refused and the connection closed (a proxy that reuses a connection across clients would
 * otherwise hand one user's NTLM-authenticated connection to another).
 */
export function forwardedForGate(settingsOf: (conn: ConnectionContext) => ForwardedForSettings | undefined): RequestGate {
  const peerOf = new WeakMap<ConnectionContext, string>();
  const clientOf = new WeakMap<ConnectionContext, string>();
  return {
    name: 'forwarded-for',
    check(ctx, req) {
      const s = settingsOf(ctx);
      if (!s?.trustedProxies) return ALLOW;
      let peer = peerOf.get(ctx);
      if (peer === undefined) peerOf.set(ctx, (peer = ctx.remoteAddress));
      const r = clientFromForwardedFor(peer, req.head.headers, s.trustedProxies);
      if (r.kind === 'error') return { allow: false, status: 400, reason: 'bad-forwarded-for', message: r.message };
      const client = r.kind === 'forwarded' ? r.address : peer;
      const known = clientOf.get(ctx);
      if (known === undefined) {
        clientOf.set(ctx, client);
        if (client !== ctx.remoteAddress) ctx.relocate?.(client, s.zoneOf(client));
        return ALLOW;
      }
      if (known === client) return ALLOW;
      return { allow: false, status: 400, reason: 'client-address-changed', message: 'X-Forwarded-For names another client than earlier on this connection' };
    },
  };
}
