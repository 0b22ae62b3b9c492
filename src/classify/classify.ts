import { normalizeTarget } from './normalize-path.js';
import type { Protocol } from '../vocabulary/protocols.js';

export type Classification =
  | { readonly ok: true; readonly protocol: Protocol; readonly path: string; readonly query: string }
  | { readonly ok: false; readonly reason: string };

/** Virtual directories by their first path segment (already lower-cased), as Exchange publishes them. */
const VDIRS: ReadonlyMap<string, Protocol> = new Map<string, Protocol>([
  ['autodiscover', 'autodiscover'],
  ['mapi', 'mapi'],
  ['ews', 'ews'],
  ['microsoft-server-activesync', 'eas'],
  ['owa', 'owa'],
  ['ecp', 'ecp'],
  ['oab', 'oab'],
  ['powershell', 'powershell'],
]);

const RPC_METHODS = new Set(['RPC_IN_DATA', 'RPC_OUT_DATA']);

/**
 * Which Exchange protocol a request belongs to, from its method and canonical path. RPC over HTTP
 * is recognised only with its own methods on rpcproxy.dll; anything else there is 'unknown'.
 */
export function classifyRequest(method: string, target: string): Classification {
  const n = normalizeTarget(target);
  if (!n.ok) return n;
  const first = n.path.split('/')[1] ?? '';
  let protocol: Protocol;
  if (first === 'rpc' || first === 'rpcwithcert') {
    const isProxy = n.path === `/${first}/rpcproxy.dll`;
    protocol = isProxy && RPC_METHODS.has(method) ? 'rpc' : 'unknown';
  } else if (RPC_METHODS.has(method)) {
    protocol = 'unknown';
  } else {
    protocol = VDIRS.get(first) ?? 'unknown';
  }
  return { ok: true, protocol, path: n.path, query: n.query };
}
