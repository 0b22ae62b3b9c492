import { type HttpError, httpError } from './errors.js';
import { FIELD_VALUE_BYTE, TCHAR } from './tokens.js';
import type { HeaderField } from './headers.js';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

export interface HeadLimits {
  /** Bytes of request or status line plus header fields, terminator included. */
  readonly maxHeadBytes: number;
  readonly maxHeaders: number;
}

export const DEFAULT_HEAD_LIMITS: HeadLimits = { maxHeadBytes: 64 * 1024, maxHeaders: 100 };

export type HeadScan =
  | { readonly kind: 'incomplete'; readonly resumeAt: number }
  | { readonly kind: 'error'; readonly error: HttpError }
  | { readonly kind: 'found'; readonly start: number; readonly end: number };

/**
 * Finds the end of a message head. `resumeAt` (from a previous 'incomplete') keeps repeated calls
 * linear while bytes trickle in. Leading empty lines are skipped (RFC 9112 §2.2).
 */
export function scanHead(buf: Buffer, limits: HeadLimits, resumeAt = 0): HeadScan {
  let start = 0;
  while (start + 1 < buf.length && buf[start] === CR && buf[start + 1] === LF) start += 2;
  if (start >= 8) return { kind: 'error', error: httpError('BAD_REQUEST_LINE', 'too many empty lines before the message') };
  const from = Math.max(start, resumeAt);
  const idx = buf.indexOf(HEAD_END, from);
  if (idx < 0) {
    if (buf.length - start > limits.maxHeadBytes) {
      return { kind: 'error', error: httpError('HEAD_TOO_LARGE', `message head exceeds ${limits.maxHeadBytes} bytes`) };
    }
    return { kind: 'incomplete', resumeAt: Math.max(start, buf.length - 3) };
  }
  const end = idx + 4;
  if (end - start > limits.maxHeadBytes) {
    return { kind: 'error', error: httpError('HEAD_TOO_LARGE', `message head exceeds ${limits.maxHeadBytes} bytes`) };
  }
  return { kind: 'found', start, end };
}

/**
 * Checks the raw head bytes for the framing hazards that let two parsers disagree about where a
 * line ends: NUL, CR not followed by LF, LF not preceded by CR.
 */
export function checkLineBytes(buf: Buffer, start: number, end: number): HttpError | undefined {
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b === 0) return httpError('NUL_BYTE', `NUL byte at offset ${i - start} of the head`);
    if (b === CR && buf[i + 1] !== LF) return httpError('BARE_CR', `bare CR at offset ${i - start} of the head`);
    if (b === LF && (i === start || buf[i - 1] !== CR)) return httpError('BARE_LF', `bare LF at offset ${i - start} of the head`);
  }
  return undefined;
}

/** Splits [start, end) into CRLF-terminated lines (without the CRLF), dropping the final empty one. */
export function splitLines(buf: Buffer, start: number, end: number): Array<[number, number]> {
  const lines: Array<[number, number]> = [];
  let lineStart = start;
  for (let i = start; i < end - 1; i++) {
    if (buf[i] === CR && buf[i + 1] === LF) {
      lines.push([lineStart, i]);
      lineStart = i + 2;
      i++;
    }
  }
  if (lines.length > 0 && lines[lines.length - 1]![0] === lines[lines.length - 1]![1]) lines.pop();
  return lines;
}

/**
 * Parses field lines (RFC 9112 §5): `name ":" OWS value OWS`. Refuses obs-fold, whitespace before
 * the colon, empty or non-token names and control characters in values.
 */
export function parseFieldLines(
  buf: Buffer,
  lines: ReadonlyArray<[number, number]>,
  maxHeaders: number,
): HeaderField[] | HttpError {
  if (lines.length > maxHeaders) return httpError('TOO_MANY_HEADERS', `more than ${maxHeaders} header fields`);
  const fields: HeaderField[] = [];
  for (const [s, e] of lines) {
    const first = buf[s];
    if (first === SP || first === HTAB) return httpError('OBS_FOLD', 'obsolete line folding (obs-fold) is not accepted');
    let colon = -1;
    for (let i = s; i < e; i++) {
      const b = buf[i]!;
      if (b === COLON) {
        colon = i;
        break;
      }
      if (b === SP || b === HTAB) return httpError('WHITESPACE_BEFORE_COLON', 'whitespace between header name and colon');
      if (TCHAR[b] !== 1) return httpError('BAD_HEADER_NAME', `invalid character 0x${b.toString(16)} in a header name`);
    }
    if (colon < 0) return httpError('BAD_HEADER_NAME', 'header line without a colon');
    if (colon === s) return httpError('BAD_HEADER_NAME', 'empty header name');
    let vs = colon + 1;
    let ve = e;
    while (vs < ve && (buf[vs] === SP || buf[vs] === HTAB)) vs++;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    for (let i = vs; i < ve; i++) {
      if (FIELD_VALUE_BYTE[buf[i]!] !== 1) {
        return httpError('BAD_HEADER_VALUE', `control character 0x${buf[i]!.toString(16)} in header ${buf.toString('latin1', s, colon)}`);
      }
    }
    fields.push({ name: buf.toString('latin1', s, colon), value: buf.toString('latin1', vs, ve) });
  }
  return fields;
}
