// Checks shared by the request- and response-head targets: the shape of a result, and that
// feeding the same bytes in pieces (resuming where each call said) changes nothing.
import type { HeadLimits } from '../../../src/http/head-scan.js';
import type { HeaderField } from '../../../src/http/headers.js';
import { invariant, sameValue } from '../../engine/target.js';
import { splitPoints } from './splits.js';

export type HeadResult =
  | { readonly kind: 'incomplete'; readonly resumeAt: number }
  | { readonly kind: 'error'; readonly error: { readonly code: string; readonly message: string } }
  | { readonly kind: 'head'; readonly head: { readonly headers: readonly HeaderField[] }; readonly consumed: number };

type Parse = (buf: Buffer, limits: HeadLimits, resumeAt?: number) => HeadResult;

/** At most 3 CRLF pairs may precede a head (scanHead refuses the 4th). */
const MAX_LEADING = 6;

export function checkShape(r: HeadResult, length: number, limits: HeadLimits): void {
  if (r.kind === 'incomplete') {
    invariant(Number.isInteger(r.resumeAt) && r.resumeAt >= 0 && r.resumeAt <= length, 'resumeAt outside the buffer', () => [r.resumeAt, length]);
  } else if (r.kind === 'error') {
    invariant(/^[A-Z0-9_]+$/.test(r.error.code) && r.error.message.length > 0, 'malformed error result', () => r.error);
  } else {
    invariant(r.consumed >= 4 && r.consumed <= length, 'consumed outside the buffer', () => [r.consumed, length]);
    invariant(r.consumed <= limits.maxHeadBytes + MAX_LEADING, 'head larger than maxHeadBytes', () => r.consumed);
    invariant(r.head.headers.length <= limits.maxHeaders, 'more headers than maxHeaders');
    for (const h of r.head.headers) {
      invariant(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(h.name), 'header name is not a token', () => h.name);
      invariant(!/^[ \t]|[ \t]$|[\x00-\x08\x0a-\x1f\x7f]/.test(h.value), 'header value has OWS or a control byte', () => h.value);
    }
  }
}

/** Parses prefixes ending at two input-derived split points, then the whole, resuming each time. */
export function checkIncremental(parse: Parse, input: Buffer, limits: HeadLimits, whole: HeadResult): void {
  let resume = 0;
  let last: HeadResult | undefined;
  for (const end of [...splitPoints(input, 2), input.length]) {
    last = parse(input.subarray(0, end), limits, resume);
    checkShape(last, end, limits);
    if (last.kind !== 'incomplete') break;
    invariant(last.resumeAt >= resume, 'resumeAt went backwards', () => [resume, last!.kind === 'incomplete' && last!.resumeAt]);
    resume = last.resumeAt;
  }
  sameValue(last, whole, 'parsing in pieces differs from parsing whole');
}

/** With smaller limits the answer may only become a limit error, never a different head. */
export function checkSmallerLimits(parse: Parse, input: Buffer, small: HeadLimits, whole: HeadResult): void {
  const r = parse(input, small);
  checkShape(r, input.length, small);
  if (r.kind === 'error' && (r.error.code === 'HEAD_TOO_LARGE' || r.error.code === 'TOO_MANY_HEADERS')) return;
  sameValue(r, whole, 'smaller limits changed a result that is not a limit error');
}
