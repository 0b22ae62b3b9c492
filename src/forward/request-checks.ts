// Checks a parsed request head must pass before any gate sees it: each one closes a way for the
// head Exchange receives to differ from the head the gates judged.
import type { HeaderField } from '../http/headers.js';
import type { RequestHead } from '../http/request-head.js';
import type { Refusal } from './gate.js';
import { type ForwardedOptions, addedFieldCount, connectionNamesProtected } from './hop-headers.js';

/** Fields that must appear at most once: the gates read one value, Exchange might read another. */
const SINGLE = ['authorization', 'expect', 'upgrade'];

function countOf(headers: readonly HeaderField[], name: string): number {
  let n = 0;
  for (const h of headers) if (h.name.length === name.length && h.name.toLowerCase() === name) n++;
  return n;
}

export function checkForwardable(head: RequestHead, maxHeaders: number, fwd: ForwardedOptions): Refusal | undefined {
  const named = connectionNamesProtected(head.headers);
  if (named) return { status: 400, reason: 'connection-names-protected-field', message: `the Connection header may not name ${named}` };
  for (const name of SINGLE) {
    if (countOf(head.headers, name) > 1) return { status: 400, reason: 'duplicate-field', message: `more than one ${name} header` };
  }
  // The fields the gateway adds count against the limit Exchange enforces (100 by default).
  if (head.headers.length + addedFieldCount(fwd) > maxHeaders) {
    return { status: 431, reason: 'too-many-headers', message: `more than ${maxHeaders - addedFieldCount(fwd)} header fields` };
  }
  return undefined;
}
