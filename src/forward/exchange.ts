import type { HeaderField } from '../http/headers.js';
import { withoutExchangeSessionCookies } from './exchange-session-cookies.js';
import type { RequestHead } from '../http/request-head.js';
import type { ResponseHead } from '../http/response-head.js';
import type { BodyRelay } from './body-relay.js';
import type { RequestInfo } from './connection-context.js';
import type { ReasonCode } from '../vocabulary/reasons.js';
import type { BodyFraming } from '../http/framing.js';
import { responseFraming } from '../http/framing.js';
import type { GateVerdict, LocalAnswer, Refusal, ResponseAction } from './gate.js';
import type { BoundedBody } from './local-answers.js';
import type { BodyTransform, BufferedBody } from './response-rewrite.js';
import { connectionNamesProtected } from './hop-headers.js';

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
  /** A refusal forwarded as an anonymous request (src/forward/gate.ts); logged with its reasons. */
  readonly concealed: { readonly reasons: readonly ReasonCode[]; readonly detail?: string } | undefined;
  /** The reference id the client was shown (on a 401), logged with the request. */
  ref?: string;
  /** The gates' onSettled hooks ran (exactly once per exchange). */
  settled: boolean;
  /** The gateway answers this request itself (src/signin): set once its body is being read. */
  local?: { readonly answer: LocalAnswer; readonly body: BoundedBody; started: boolean } | undefined;
  /** Set when a gate rewrites this answer: the body is collected, then sent whole. */
  buffered?: { readonly sink: BufferedBody; readonly head: ResponseHead } | undefined;
}

/** The exchange of an admitted request, its body relayed by `request`. */
export function newExchange(head: RequestHead, info: RequestInfo, request: BodyRelay, framing: BodyFraming, verdicts: readonly GateVerdict[], closeAfter: boolean): Exchange {
  return {
    head,
    info,
    request,
    response: undefined,
    status: 0,
    responseStarted: false,
    closeAfter,
    requestDone: framing.kind === 'none',
    responseDone: false,
    verdicts,
    concealed: concealedDenial(verdicts),
    settled: false,
  };
}

/** Tells every gate that allowed a request that its exchange is over (once). */
export function settleVerdicts(verdicts: readonly GateVerdict[], forwarded: boolean): void {
  for (const v of verdicts) if (v.allow) v.onSettled?.(forwarded);
}

/** The request head as it goes to Exchange: every allowing gate's header rewrite, in order. */
export function forwardedHead(verdicts: readonly GateVerdict[], head: RequestHead): RequestHead {
  // Exchange's forms-sign-in cookies never come from a client (exchange-session-cookies.ts); a
  // browser session's are put in by its gate below.
  let headers = withoutExchangeSessionCookies(head.headers);
  for (const v of verdicts) if (v.allow && v.requestHeaders) headers = v.requestHeaders(headers);
  return headers === head.headers ? head : { ...head, headers };
}

/** Whether a gate wants the request forwarded without its Authorization header. */
export function stripsAuthorization(verdicts: readonly GateVerdict[]): boolean {
  return verdicts.some((v) => v.allow && v.stripAuthorization === true);
}

/** The refusal a gate concealed as an anonymous request, if any. */
export function concealedDenial(verdicts: readonly GateVerdict[]): Exchange['concealed'] {
  for (const v of verdicts) if (v.allow && v.concealed) return v.concealed;
  return undefined;
}

/** Lets every gate that allowed the request look at its final response head, in order. */
export function responseAction(verdicts: readonly GateVerdict[], head: ResponseHead): ResponseAction {
  let headers: readonly HeaderField[] | undefined;
  let transform: ResponseAction & { pass: true } = { pass: true };
  let closeAfter = false;
  for (const v of verdicts) {
    if (!v.allow || !v.onResponse) continue;
    const a = v.onResponse(headers ? { ...head, headers } : head);
    if (!a.pass) return a;
    if (a.headers) headers = a.headers;
    if (a.transform) transform = a;
    closeAfter ||= a.closeAfter === true;
  }
  return { pass: true, ...(headers ? { headers } : {}), ...(transform.transform ? { transform: transform.transform } : {}), ...(closeAfter ? { closeAfter } : {}) };
}

/** What to do with a parsed response head from Exchange. */
export type ResponsePlan =
  | { readonly kind: 'interim'; readonly head: ResponseHead }
  | { readonly kind: 'refuse'; readonly refusal: Refusal }
  | { readonly kind: 'bad'; readonly message: string }
  | { readonly kind: 'buffer'; readonly head: ResponseHead; readonly framing: BodyFraming; readonly transform: BodyTransform }
  | { readonly kind: 'stream'; readonly head: ResponseHead; readonly framing: BodyFraming };

/** Asks the gates about a response head and decides its framing; no I/O. */
export function planResponse(ex: Exchange, parsed: ResponseHead): ResponsePlan {
  if (parsed.status === 101) return { kind: 'bad', message: 'protocol switch (101) refused' };
  const named = connectionNamesProtected(parsed.headers);
  if (named) return { kind: 'bad', message: `the response's Connection header names ${named}` };
  if (parsed.status < 200) {
    for (const v of ex.verdicts) if (v.allow) v.onInterim?.(parsed.status);
    return { kind: 'interim', head: parsed };
  }
  const action = responseAction(ex.verdicts, parsed);
  if (!action.pass) return { kind: 'refuse', refusal: action.refusal };
  if (action.closeAfter) ex.closeAfter = true;
  const head = action.headers ? { ...parsed, headers: action.headers } : parsed;
  const framing = responseFraming(head, ex.head.method);
  if ('code' in framing) return { kind: 'bad', message: framing.message };
  return action.transform ? { kind: 'buffer', head, framing, transform: action.transform } : { kind: 'stream', head, framing };
}
