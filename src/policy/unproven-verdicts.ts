// Verdicts for requests that carry no proven identity: a handshake's first leg, an anonymous
// endpoint, and a concealed refusal (a credential refused before its password was proven, sent to
// Exchange without it so the client gets Exchange's own answer to an anonymous request).
import type { Protocol } from '../vocabulary/protocols.js';
import type { GateVerdict, ResponseAction } from '../forward/gate.js';
import type { ResponseHead } from '../http/response-head.js';
import type { AnswerTiming } from './answer-timing.js';
import { type Decision, deny } from './decision.js';
import { refusalFor } from '../forward/refusals.js';

export interface AnswerContext {
  readonly protocol: Protocol;
  /** The endpoint serves only authenticated clients (src/policy/proof.ts). */
  readonly needsAuth: boolean;
  /** Remove bare "Negotiate" offers, so clients fall back to NTLM and stay visible. */
  readonly stripNegotiate: boolean;
  readonly timing: AnswerTiming;
}

/** Shapes any answer's 401 offers (Negotiate removed where configured). */
export function shapeAnswer(c: AnswerContext, h: ResponseHead): ResponseAction {
  if (h.status !== 401 || !c.stripNegotiate) return { pass: true };
  const headers = h.headers.filter((f) => !(f.name.toLowerCase() === 'www-authenticate' && f.value.trim().toLowerCase() === 'negotiate'));
  return headers.length === h.headers.length ? { pass: true } : { pass: true, headers };
}

/** What Exchange may answer a request without (usable) credentials: a 401, or content only where anonymous. */
function anonymousAnswer(c: AnswerContext, started: number, h: ResponseHead): ResponseAction {
  if (h.status === 401) c.timing.anonymousRefusal(c.protocol, Date.now() - started);
  if (c.needsAuth && h.status >= 200 && h.status < 300) {
    return { pass: false, refusal: refusalFor(c.protocol, 403, deny(['unauthenticated-answer']), 'Exchange answered a request without credentials') };
  }
  return shapeAnswer(c, h);
}

/**
 * No credentials on an unproven connection: only a handshake leg (401) or an anonymous endpoint.
 * `strip`: the request carried credentials an anonymous endpoint does not need; they never reach
 * Exchange, where they could authenticate the connection unproven or count against the AD account.
 */
export function anonymousVerdict(c: AnswerContext, strip = false): GateVerdict {
  const started = Date.now();
  return { allow: true, ...(strip ? { stripAuthorization: true } : {}), onResponse: (h) => anonymousAnswer(c, started, h) };
}

/** A refusal the client sees as Exchange's answer to an anonymous request; the reasons go to the log. */
export function concealedVerdict(d: Decision, detail: string | undefined, c: AnswerContext): GateVerdict {
  const started = Date.now();
  return { allow: true, concealed: { reasons: d.reasons, ...(detail ? { detail } : {}) }, stripAuthorization: true, onResponse: (h) => anonymousAnswer(c, started, h) };
}
