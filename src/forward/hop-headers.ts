import type { HeaderField } from '../http/headers.js';
import { headerTokens } from '../http/headers.js';
import type { BodyFraming } from '../http/framing.js';
import type { RequestHead } from '../http/request-head.js';
import type { ResponseHead } from '../http/response-head.js';
import { serializeHead } from '../http/serialize.js';

/** RFC 9110 §7.6.1 hop-by-hop fields, plus proxy credentials meant for a proxy, not Exchange. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

function dropHopByHop(headers: readonly HeaderField[]): HeaderField[] {
  const listed = new Set(headerTokens(headers, 'connection'));
  return headers.filter((h) => {
    const n = h.name.toLowerCase();
    return !HOP_BY_HOP.has(n) && !listed.has(n);
  });
}

/** Whether the client wants the connection closed after this exchange. */
export function clientWantsClose(head: RequestHead): boolean {
  const tokens = headerTokens(head.headers, 'connection');
  if (head.version === '1.0') return !tokens.includes('keep-alive');
  return tokens.includes('close');
}

export interface ForwardedOptions {
  readonly xForwardedFor: boolean;
  readonly xForwardedProto: boolean;
  readonly xForwardedHost: boolean;
}

/** The head sent to Exchange: hop-by-hop fields removed, X-Forwarded-* set, Host and target kept. */
export function upstreamRequestHead(
  head: RequestHead,
  framing: BodyFraming,
  clientAddress: string,
  opts: ForwardedOptions,
  close: boolean,
): Buffer {
  const out = dropHopByHop(head.headers);
  const host = out.find((h) => h.name.toLowerCase() === 'host')?.value;
  const fwd: HeaderField[] = [];
  const kept = out.filter((h) => {
    const n = h.name.toLowerCase();
    if (opts.xForwardedFor && n === 'x-forwarded-for') {
      fwd.push({ name: h.name, value: `${h.value}, ${clientAddress}` });
      return false;
    }
    if ((opts.xForwardedProto && n === 'x-forwarded-proto') || (opts.xForwardedHost && n === 'x-forwarded-host')) return false;
    return true;
  });
  if (opts.xForwardedFor && fwd.length === 0) fwd.push({ name: 'X-Forwarded-For', value: clientAddress });
  if (opts.xForwardedProto) fwd.push({ name: 'X-Forwarded-Proto', value: 'https' });
  if (opts.xForwardedHost && host !== undefined) fwd.push({ name: 'X-Forwarded-Host', value: host });
  if (framing.kind === 'chunked') kept.push({ name: 'Transfer-Encoding', value: 'chunked' });
  if (close) kept.push({ name: 'Connection', value: 'close' });
  return serializeHead(`${head.method} ${head.target} HTTP/1.1`, [...kept, ...fwd]);
}

/** The head sent to the client. The status line keeps Exchange's version and reason byte-exact
 * (MS-RPCH clients match "HTTP/1.0 503 RPC Error" literally). */
export function clientResponseHead(head: ResponseHead, framing: BodyFraming, chunkedToClient: boolean, close: boolean): Buffer {
  const kept = dropHopByHop(head.headers);
  if (framing.kind === 'chunked' && chunkedToClient) kept.push({ name: 'Transfer-Encoding', value: 'chunked' });
  if (close) kept.push({ name: 'Connection', value: 'close' });
  return serializeHead(`HTTP/${head.version} ${head.status} ${head.reason}`, kept);
}

/** A 1xx interim response relayed as received (impacket checks "HTTP/1.1 100 Continue" literally). */
export function interimHead(head: ResponseHead): Buffer {
  return serializeHead(`HTTP/${head.version} ${head.status} ${head.reason}`, dropHopByHop(head.headers));
}

/** Whether Exchange wants the connection closed after this response. */
export function upstreamWantsClose(head: ResponseHead): boolean {
  const tokens = headerTokens(head.headers, 'connection');
  return head.version === '1.0' ? !tokens.includes('keep-alive') : tokens.includes('close');
}
