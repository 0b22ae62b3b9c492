import type { HeaderField } from '../http/headers.js';
import type { RequestHead } from '../http/request-head.js';
import type { ResponseHead } from '../http/response-head.js';
import type { BodyRelay } from './body-relay.js';
import type { RequestInfo } from './connection-context.js';
import type { GateVerdict, ResponseAction } from './gate.js';
import type { BufferedBody } from './response-rewrite.js';

/** One request and its answer on a client connection. */
export interface Exchange {
  readonly head: RequestHead;
  readonly info: RequestInfo;
  readonly request: BodyRelay;
  response: BodyRelay | undefined;
  status: number;
  /** A final response head went to the client: errors can no longer be answered, only cut. */
  responseStarted: boolean;
  closeAfter: boolean;
  requestDone: boolean;
  responseDone: boolean;
  readonly verdicts: readonly GateVerdict[];
  /** Set when a gate rewrites this answer: the body is collected, then sent whole. */
  buffered?: { readonly sink: BufferedBody; readonly head: ResponseHead } | undefined;
}

/** Lets every gate that allowed the request look at its final response head, in order. */
export function responseAction(verdicts: readonly GateVerdict[], head: ResponseHead): ResponseAction {
  let headers: readonly HeaderField[] | undefined;
  let transform: ResponseAction & { pass: true } = { pass: true };
  for (const v of verdicts) {
    if (!v.allow || !v.onResponse) continue;
    const a = v.onResponse(headers ? { ...head, headers } : head);
    if (!a.pass) return a;
    if (a.headers) headers = a.headers;
    if (a.transform) transform = a;
  }
  return { pass: true, ...(headers ? { headers } : {}), ...(transform.transform ? { transform: transform.transform } : {}) };
}
