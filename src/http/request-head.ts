// Own request-head parser: Node's llhttp refuses RPC_IN_DATA/RPC_OUT_DATA (nodejs/node#41913), and
// the gateway must see every framing ambiguity itself to refuse it. Pure: bytes in, result out.
import { type HttpError, httpError } from './errors.js';
import { type HeadLimits, checkLineBytes, parseFieldLines, scanHead, splitLines } from './head-scan.js';
import type { HeaderField } from './headers.js';
import { TARGET_BYTE, TCHAR } from './tokens.js';

export interface RequestHead {
  readonly method: string;
  /** The request-target exactly as received (origin-form, or `*` for OPTIONS). */
  readonly target: string;
  readonly version: '1.0' | '1.1';
  readonly headers: readonly HeaderField[];
}

export type RequestHeadResult =
  | { readonly kind: 'incomplete'; readonly resumeAt: number }
  | { readonly kind: 'error'; readonly error: HttpError }
  | { readonly kind: 'head'; readonly head: RequestHead; readonly consumed: number };

const SP = 0x20;
const MAX_METHOD_BYTES = 32;

export function parseRequestHead(buf: Buffer, limits: HeadLimits, resumeAt = 0): RequestHeadResult {
  const scan = scanHead(buf, limits, resumeAt);
  if (scan.kind !== 'found') return scan;
  const bad = checkLineBytes(buf, scan.start, scan.end);
  if (bad) return { kind: 'error', error: bad };
  const lines = splitLines(buf, scan.start, scan.end);
  const [rs, re] = lines[0]!;
  const line = parseRequestLine(buf, rs, re);
  if ('code' in line) return { kind: 'error', error: line };
  const headers = parseFieldLines(buf, lines.slice(1), limits.maxHeaders);
  if ('code' in headers) return { kind: 'error', error: headers };
  const hostError = checkHost(headers, line.version);
  if (hostError) return { kind: 'error', error: hostError };
  return { kind: 'head', head: { ...line, headers }, consumed: scan.end };
}

function parseRequestLine(buf: Buffer, s: number, e: number): Omit<RequestHead, 'headers'> | HttpError {
  const sp1 = buf.indexOf(SP, s);
  if (sp1 < 0 || sp1 >= e) return httpError('BAD_REQUEST_LINE', 'request line is not "method target version"');
  const sp2 = buf.indexOf(SP, sp1 + 1);
  if (sp2 < 0 || sp2 >= e) return httpError('BAD_REQUEST_LINE', 'request line is not "method target version"');
  if (buf.indexOf(SP, sp2 + 1) >= 0 && buf.indexOf(SP, sp2 + 1) < e) {
    return httpError('BAD_REQUEST_LINE', 'request line has more than two spaces');
  }
  if (sp1 === s) return httpError('BAD_METHOD', 'empty method');
  // The longest method Exchange serves is RPC_OUT_DATA (12); a 60 KB method was forwarded before.
  if (sp1 - s > MAX_METHOD_BYTES) return httpError('BAD_METHOD', `method longer than ${MAX_METHOD_BYTES} bytes`);
  for (let i = s; i < sp1; i++) {
    if (TCHAR[buf[i]!] !== 1) return httpError('BAD_METHOD', 'method is not a token');
  }
  if (sp2 === sp1 + 1) return httpError('BAD_TARGET', 'empty request-target');
  for (let i = sp1 + 1; i < sp2; i++) {
    if (TARGET_BYTE[buf[i]!] !== 1) return httpError('BAD_TARGET', 'request-target contains a non-visible character');
  }
  const method = buf.toString('latin1', s, sp1);
  const target = buf.toString('latin1', sp1 + 1, sp2);
  if (target[0] !== '/' && !(target === '*' && method === 'OPTIONS')) {
    return httpError('BAD_TARGET', 'only origin-form request-targets are accepted');
  }
  if (target.includes('#')) return httpError('BAD_TARGET', 'request-target contains a fragment');
  const v = buf.toString('latin1', sp2 + 1, e);
  if (v === 'HTTP/1.1') return { method, target, version: '1.1' };
  if (v === 'HTTP/1.0') return { method, target, version: '1.0' };
  if (/^HTTP\/\d\.\d$/.test(v)) return httpError('UNSUPPORTED_VERSION', `${v} is not supported; use HTTP/1.1`);
  return httpError('BAD_REQUEST_LINE', 'malformed HTTP version');
}

function checkHost(headers: readonly HeaderField[], version: '1.0' | '1.1'): HttpError | undefined {
  let count = 0;
  for (const h of headers) if (h.name.length === 4 && h.name.toLowerCase() === 'host') count++;
  if (count > 1) return httpError('DUPLICATE_HOST', 'more than one Host header');
  if (count === 0 && version === '1.1') return httpError('MISSING_HOST', 'HTTP/1.1 request without Host');
  return undefined;
}
