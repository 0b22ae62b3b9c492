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

/** host [ ":" port ] (RFC 9110 §7.2): a reg-name, IPv4 or bracketed IPv6 literal; no path, no userinfo. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::\d{1,5})?$/;

export function checkForwardable(head: RequestHead, maxHeaders: number, fwd: ForwardedOptions): Refusal | undefined {
  // Every request leaves as HTTP/1.1, which needs a Host; an HTTP/1.0 request may lack one.
  const host = head.headers.find((h) => h.name.length === 4 && h.name.toLowerCase() === 'host')?.value;
  if (host === undefined) return { status: 400, reason: 'MISSING_HOST', message: 'request without Host' };
  if (!HOST.test(host)) return { status: 400, reason: 'BAD_HOST', message: 'Host is not host[:port]' };
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
