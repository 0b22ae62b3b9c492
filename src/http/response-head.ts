// Upstream response heads get the same strictness as client requests: a confused upstream must not
// be able to smuggle a second response onto a pinned, authenticated client connection.
import { type HttpError, httpError } from './errors.js';
import { type HeadLimits, checkLineBytes, parseFieldLines, scanHead, splitLines } from './head-scan.js';
import type { HeaderField } from './headers.js';

export interface ResponseHead {
  readonly version: '1.0' | '1.1';
  readonly status: number;
  /** Reason phrase as received (MS-RPCH puts "RPC Error: …" here, so it is kept byte-exact). */
  readonly reason: string;
  readonly headers: readonly HeaderField[];
}

export type ResponseHeadResult =
  | { readonly kind: 'incomplete'; readonly resumeAt: number }
  | { readonly kind: 'error'; readonly error: HttpError }
  | { readonly kind: 'head'; readonly head: ResponseHead; readonly consumed: number };

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

export function parseResponseHead(buf: Buffer, limits: HeadLimits, resumeAt = 0): ResponseHeadResult {
  const scan = scanHead(buf, limits, resumeAt);
  if (scan.kind !== 'found') return scan;
  const bad = checkLineBytes(buf, scan.start, scan.end);
  if (bad) return { kind: 'error', error: bad };
  const lines = splitLines(buf, scan.start, scan.end);
  const [s, e] = lines[0]!;
  const m = STATUS_LINE.exec(buf.toString('latin1', s, e));
  if (!m) return { kind: 'error', error: httpError('BAD_STATUS_LINE', 'malformed status line') };
  const headers = parseFieldLines(buf, lines.slice(1), limits.maxHeaders);
  if ('code' in headers) return { kind: 'error', error: headers };
  return {
    kind: 'head',
    head: { version: m[1] === '1' ? '1.1' : '1.0', status: Number(m[2]), reason: m[3] ?? '', headers },
    consumed: scan.end,
  };
}
