// Puts a client connection's life on the events seam (src/events.ts): opened and closed, each
// request's start, gate decision and end, logins bound or refused. Every function returns at once
// when nobody subscribes to its channel, before building anything.
import { type CloseCause, type ConnectionRef, type GateName, type LoginOutcome, type RequestEndedEvent, events } from '../events.js';
import type { AuthScheme } from '../vocabulary/claim.js';
import type { Decision } from '../vocabulary/decision.js';
import type { Protocol } from '../vocabulary/protocols.js';
import type { ReasonCode } from '../vocabulary/reasons.js';
import type { ConnectionContext, RequestInfo } from './connection-context.js';
import type { Exchange } from './exchange.js';
import type { GateVerdict, Refusal } from './gate.js';

export function connectionRef(c: ConnectionContext): ConnectionRef {
  return { connection: c.id, listener: c.listener, zone: c.zone, clientIp: c.remoteAddress, clientPort: c.remotePort, at: Date.now() };
}

/** The proven user, else the one the request in flight was allowed as, else the one it claimed. */
export function userOf(c: ConnectionContext): string | undefined {
  const id = c.identity ?? c.pending;
  if (id) return id.entry?.key ?? 'kerberos';
  return c.claim?.user ?? c.claim?.claimed;
}

export interface TlsFacts {
  readonly sni: string | undefined;
  readonly tlsVersion: string | undefined;
  readonly tlsCipher: string | undefined;
}

export function recordOpened(c: ConnectionContext, tls: TlsFacts): void {
  if (events.connectionOpened.hasSubscribers) events.connectionOpened.publish({ ...connectionRef(c), ...tls });
}

export function recordClosed(c: ConnectionContext, tls: TlsFacts, cause: CloseCause, detail: string | undefined, pinned: Protocol | undefined): void {
  if (!events.connectionClosed.hasSubscribers) return;
  const id = c.identity ?? c.pending;
  events.connectionClosed.publish({
    ...connectionRef(c),
    ...tls,
    cause,
    detail,
    user: userOf(c),
    proven: c.identity !== undefined,
    scheme: id?.via ?? c.claim?.scheme,
    protocol: c.lastProtocol ?? c.current?.protocol,
    requests: c.requests,
    bytesIn: c.bytesFromClient,
    bytesOut: c.bytesToClient,
    durationMs: Date.now() - c.openedAt,
    pinned: pinned ? { protocol: pinned } : undefined,
    device: c.current?.device,
  });
}

export function recordRequestStarted(c: ConnectionContext, info: RequestInfo): void {
  if (!events.requestStarted.hasSubscribers) return;
  const id = c.identity;
  events.requestStarted.publish({ ...connectionRef(c), request: c.requests, method: info.method, path: info.path, protocol: info.protocol, user: id ? (id.entry?.key ?? 'kerberos') : undefined, device: info.device });
}

/** What a request's end adds to its start: the event's own fields (one definition, in events.ts). */
export type RequestOutcome = Pick<RequestEndedEvent, 'status' | 'reasons' | 'refused' | 'concealed' | 'detail' | 'ref' | 'requestBytes' | 'responseBytes'>;

export function recordRequestEnded(c: ConnectionContext, info: RequestInfo | undefined, o: RequestOutcome): void {
  if (!events.requestEnded.hasSubscribers) return;
  events.requestEnded.publish({
    ...connectionRef(c),
    request: c.requests,
    method: info?.method ?? '',
    path: info?.path ?? '',
    protocol: info?.protocol,
    user: userOf(c),
    ...o,
    durationMs: info ? Date.now() - info.startedAt : 0,
    device: info?.device,
  });
}

/** An exchange Exchange answered, or that failed upstream (`failure`, answered by the gateway). */
export function recordExchangeEnd(c: ConnectionContext, ex: Exchange, status: number, failure: ReasonCode | undefined, ref: string | undefined): void {
  if (!events.requestEnded.hasSubscribers) return;
  const concealed = ex.concealed;
  recordRequestEnded(c, ex.info, {
    status,
    reasons: failure ? [failure] : (concealed?.reasons ?? []),
    refused: failure !== undefined,
    concealed: concealed !== undefined,
    detail: concealed?.detail,
    ref: ref ?? ex.ref,
    requestBytes: ex.request.transferred,
    responseBytes: ex.response?.transferred ?? 0,
  });
}

/** A request the gateway answered itself; `message` is the record's detail (never a credential). */
export function recordRefusal(c: ConnectionContext, info: RequestInfo | undefined, r: Refusal, ref: string, requestBytes: number): void {
  if (!events.requestEnded.hasSubscribers) return;
  recordRequestEnded(c, info, { status: r.status, reasons: r.reasons ?? [r.reason], refused: true, concealed: false, detail: r.message, ref, requestBytes, responseBytes: 0 });
}

/**
 * One decision per request: the refusing gate's, else the access gate's (its policy reasons and
 * rule, for allowed requests too); a concealed refusal is reported as the denial it is.
 */
export function recordGateDecision(c: ConnectionContext, info: RequestInfo, gates: readonly { readonly name: GateName }[], verdicts: readonly GateVerdict[]): void {
  if (!events.gateDecision.hasSubscribers) return;
  let gate: GateName = gates[verdicts.length - 1]?.name ?? 'zone';
  let decision: Decision = { allow: true, reasons: [] };
  let concealed = false;
  for (let i = 0; i < verdicts.length; i++) {
    const v = verdicts[i]!;
    if (!v.allow) {
      gate = gates[i]!.name;
      // A page the gateway answers itself is no refusal: its own end says whether it refused.
      decision = { allow: v.local !== undefined, reasons: v.reasons ?? [v.reason], ...(v.rule ? { rule: v.rule } : {}) };
      break;
    }
    if (v.concealed) {
      gate = gates[i]!.name;
      decision = { allow: false, reasons: v.concealed.reasons };
      concealed = true;
    } else if (v.decision && !concealed) {
      gate = gates[i]!.name;
      decision = v.decision;
    }
  }
  events.gateDecision.publish({
    ...connectionRef(c),
    request: c.requests,
    method: info.method,
    path: info.path,
    protocol: info.protocol,
    allow: decision.allow,
    gate,
    decision,
    concealed,
    user: userOf(c),
    scheme: (c.identity ?? c.pending)?.via ?? c.claim?.scheme,
    device: info.device,
  });
}

function outcomeOf(reasons: readonly ReasonCode[]): LoginOutcome {
  for (const r of reasons) {
    switch (r) {
      case 'bad-password':
      case 'unknown-user':
      case 'unknown-domain':
      case 'locked-out':
      case 'attempts-in-flight':
      case 'directory-unavailable':
      case 'identity-mismatch':
        return r;
      case 'malformed-credentials':
        return 'malformed';
    }
  }
  return 'denied';
}

/** A login refused by the gateway (outcome from its reasons) or by Exchange (`refused-by-exchange`). */
export function recordLoginFailure(c: ConnectionContext, protocol: Protocol, reasons: readonly ReasonCode[], outcome: LoginOutcome = outcomeOf(reasons)): void {
  const claim = c.claim;
  if (!claim || !events.loginFailed.hasSubscribers) return;
  events.loginFailed.publish({ ...connectionRef(c), claimedUser: claim.claimed, user: claim.user, scheme: claim.scheme, outcome, protocol, reasons });
}

/** Exchange's answer proved the identity: it is now the connection's. */
export function recordBound(c: ConnectionContext, protocol: Protocol, user: string, scheme: AuthScheme): void {
  if (!events.identityBound.hasSubscribers) return;
  events.identityBound.publish({ ...connectionRef(c), claimedUser: c.claim?.claimed, user, scheme, outcome: 'bound', protocol, reasons: [] });
}
