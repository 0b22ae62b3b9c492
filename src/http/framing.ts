// Message body framing, RFC 9112 §6. Every ambiguity a smuggling attack needs is refused here, so
// the gateway and Exchange can never disagree about where one request ends and the next begins.
import { type HttpError, httpError } from './errors.js';
import type { HeaderList } from './headers.js';
import type { RequestHead } from './request-head.js';
import type { ResponseHead } from './response-head.js';

export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  /** Response only: the body runs until the upstream closes. */
  | { readonly kind: 'close' };

/** 2 GiB: the largest RPC over HTTP channel ([MS-RPCH] §2.1.2.1.7). */
export const MAX_CONTENT_LENGTH = 2 ** 31;

interface LengthHeaders {
  readonly cl: string[];
  readonly te: string[];
}

function collect(headers: HeaderList): LengthHeaders {
  const cl: string[] = [];
  const te: string[] = [];
  for (const h of headers) {
    const n = h.name.toLowerCase();
    if (n === 'content-length') cl.push(h.value);
    else if (n === 'transfer-encoding') te.push(h.value);
  }
  return { cl, te };
}

function parseContentLength(values: string[], max: number): number | HttpError {
  if (values.length > 1) return httpError('DUPLICATE_CONTENT_LENGTH', 'more than one Content-Length header');
  const v = values[0]!;
  if (!/^\d{1,12}$/.test(v)) return httpError('BAD_CONTENT_LENGTH', `Content-Length "${v.slice(0, 40)}" is not a decimal number`);
  const n = Number(v);
  if (n > max) return httpError('CONTENT_LENGTH_TOO_LARGE', `Content-Length ${n} exceeds ${max}`);
  return n;
}

// Only OWS (SP, HTAB) may surround the token. String.prototype.trim() also strips U+00A0, which
// is the latin1 byte 0xA0, so "Transfer-Encoding:\xa0chunked" passed for chunked (npm run fuzz).
// /i without the u flag never folds a non-ASCII character onto an ASCII one.
const CHUNKED_ONLY = /^[ \t]*chunked[ \t]*$/i;

function checkChunkedOnly(te: string[]): HttpError | undefined {
  if (te.length !== 1 || !CHUNKED_ONLY.test(te[0]!)) {
    return httpError('BAD_TRANSFER_ENCODING', `Transfer-Encoding "${te.join(', ').slice(0, 60)}" is not exactly "chunked"`);
  }
  return undefined;
}

export function requestFraming(head: RequestHead, maxContentLength = MAX_CONTENT_LENGTH): BodyFraming | HttpError {
  const { cl, te } = collect(head.headers);
  if (cl.length > 0 && te.length > 0) return httpError('CL_AND_TE', 'both Content-Length and Transfer-Encoding');
  if (te.length > 0) {
    if (head.version === '1.0') return httpError('TE_IN_HTTP10', 'Transfer-Encoding in an HTTP/1.0 request');
    return checkChunkedOnly(te) ?? { kind: 'chunked' };
  }
  if (cl.length > 0) {
    const n = parseContentLength(cl, maxContentLength);
    if (typeof n !== 'number') return n;
    return n === 0 ? { kind: 'none' } : { kind: 'length', length: n };
  }
  return { kind: 'none' };
}

export function responseFraming(
  head: ResponseHead,
  requestMethod: string,
  maxContentLength = MAX_CONTENT_LENGTH,
): BodyFraming | HttpError {
  if (requestMethod === 'HEAD' || head.status < 200 || head.status === 204 || head.status === 304) {
    return { kind: 'none' };
  }
  const { cl, te } = collect(head.headers);
  if (cl.length > 0 && te.length > 0) return httpError('CL_AND_TE', 'upstream sent both Content-Length and Transfer-Encoding');
  if (te.length > 0) return checkChunkedOnly(te) ?? { kind: 'chunked' };
  if (cl.length > 0) {
    const n = parseContentLength(cl, maxContentLength);
    if (typeof n !== 'number') return n;
    return n === 0 ? { kind: 'none' } : { kind: 'length', length: n };
  }
  return { kind: 'close' };
}
