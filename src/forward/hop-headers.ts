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

/**
 * Fields a `Connection` list may never remove: the framing both sides must agree on, the fields the
 * gates judge (Authorization, Host, Cookie, Expect) and the ones the gateway sets itself. A request
 * or response that names one of them is refused: honouring `Connection: content-length` let the
 * body of one request reach Exchange as a second request no gate had seen (issue #10).
 */
const PROTECTED = new Set([
  'content-length',
  'transfer-encoding',
  'host',
  'authorization',
  'expect',
  'cookie',
  'content-type',
  'content-encoding',
  'www-authenticate',
  'set-cookie',
  'location',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);

/** The protected field a head's `Connection` list names, if any (the head must then be refused). */
export function connectionNamesProtected(headers: readonly HeaderField[]): string | undefined {
  return headerTokens(headers, 'connection').find((t) => PROTECTED.has(t));
}

function dropHopByHop(headers: readonly HeaderField[]): HeaderField[] {
  const listed = new Set(headerTokens(headers, 'connection'));
  return headers.filter((h) => {
    const n = h.name.toLowerCase();
    return !HOP_BY_HOP.has(n) && (!listed.has(n) || PROTECTED.has(n));
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

/** Fields through which a client could claim an address, scheme or host: Exchange hears those from the gateway only. */
const FORWARDED = new Set(['forwarded', 'x-real-ip', 'true-client-ip', 'x-client-ip', 'x-cluster-client-ip', 'x-originating-ip']);

function isForwarded(lowerName: string): boolean {
  return lowerName.startsWith('x-forwarded-') || FORWARDED.has(lowerName);
}

/** How many fields the gateway adds to a forwarded request head (counted against maxHeaders). */
export function addedFieldCount(opts: ForwardedOptions): number {
  return Number(opts.xForwardedFor) + Number(opts.xForwardedProto) + Number(opts.xForwardedHost) + 2;
}

/**
 * The head sent to Exchange: hop-by-hop fields removed, X-Forwarded-* set, Host and target kept.
 * X-Forwarded-* (and Forwarded, X-Real-IP, True-Client-IP, …) from the client are dropped, never extended: the gateway is the edge, and
 * Exchange must not log (or trust) an address the client chose. `withoutAuthorization` forwards
 * a refused credential's request as an anonymous one, so the client gets Exchange's own 401.
 */
export function upstreamRequestHead(
  head: RequestHead,
  framing: BodyFraming,
  clientAddress: string,
  opts: ForwardedOptions,
  close: boolean,
  withoutAuthorization = false,
): Buffer {
  let host: string | undefined;
  const kept = dropHopByHop(head.headers).filter((h) => {
    const n = h.name.toLowerCase();
    if (n === 'host') host = h.value;
    return !isForwarded(n) && !(withoutAuthorization && n === 'authorization');
  });
  if (opts.xForwardedFor) kept.push({ name: 'X-Forwarded-For', value: clientAddress });
  if (opts.xForwardedProto) kept.push({ name: 'X-Forwarded-Proto', value: 'https' });
  if (opts.xForwardedHost && host !== undefined) kept.push({ name: 'X-Forwarded-Host', value: host });
  if (framing.kind === 'chunked') kept.push({ name: 'Transfer-Encoding', value: 'chunked' });
  if (close) kept.push({ name: 'Connection', value: 'close' });
  return serializeHead(`${head.method} ${head.target} HTTP/1.1`, kept);
}

/** The head sent to the client. The status line keeps Exchange's version and reason byte-exact
 * (MS-RPCH clients match "HTTP/1.0 503 RPC Error" literally). */
export function clientResponseHead(head: ResponseHead, framing: BodyFraming, chunkedToClient: boolean, close: boolean, extra: readonly HeaderField[] = []): Buffer {
  const kept = dropHopByHop(head.headers);
  if (extra.length > 0) kept.push(...extra);
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
