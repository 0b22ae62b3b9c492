// The audit trail's subscriber: maps the lifecycle events (src/events.ts) to audit records. The
// core publishes and never imports this; the runtime subscribes it at start.
//
// A denial is written when its request ends (then the reference id the client saw is known), with
// the scheme and rule of the gate decision that refused it; an identity binding carries the reasons
// and rule of the decision that let the connection in, so every record answers "why".
import { type ConnectionRef, type GateDecisionEvent, type IdentityEvent, type LoginOutcome, type RequestEndedEvent, type SecondFactorResetEvent, events, on } from '../events.js';
import type { RecordInput } from './audit-record.js';
import type { AuditLevel } from './audit-schema.js';
import type { DeviceRef } from '../vocabulary/device.js';

export interface RecordSink {
  record(r: RecordInput): void;
}

/** Longest problem text kept from a refused reload. */
const MAX_TEXT = 2000;

const where = (e: ConnectionRef) => ({
  ts: e.at,
  clientIp: e.clientIp,
  clientPort: e.clientPort,
  zone: e.zone,
  listener: e.listener,
  connection: e.connection,
});

const scheme = (s: string | undefined) => s?.toLowerCase();

/**
 * Login failures Exchange itself answered (a wrong password): the request is not a refusal of the
 * gateway's, so the failure is the record. Any other outcome (denied, locked out, unknown user, …)
 * ends in a refusal, recorded once as `denied` with the same claimed user and reasons.
 */
const EXCHANGE_OUTCOMES: ReadonlySet<LoginOutcome> = new Set(['bad-password', 'refused-by-exchange']);

function loginFailedRecord(e: IdentityEvent): RecordInput {
  return {
    ...where(e),
    event: 'login-failed',
    decision: 'deny',
    user: e.user ?? e.claimedUser,
    scheme: scheme(e.scheme),
    protocol: e.protocol,
    reasons: e.reasons.length ? [...e.reasons] : undefined,
    cause: e.outcome,
    text: e.claimedUser && e.user && e.claimedUser !== e.user ? `claimed ${e.claimedUser}` : undefined,
  };
}

/** A refusal by the gateway, not an upstream failure it reports (502/503/504). */
function isDenial(e: RequestEndedEvent, gate: GateDecisionEvent | undefined): boolean {
  return e.concealed || (gate !== undefined && (!gate.allow || gate.concealed)) || (e.refused && e.status < 500);
}

/** Subscribes; returns the function that unsubscribes everything. */
export function subscribeAuditRecorder(sink: RecordSink, level: () => AuditLevel): () => void {
  // Per connection: the refusing decision of the request in flight, and the last allowing one.
  const refusing = new Map<number, GateDecisionEvent>();
  const allowing = new Map<number, GateDecisionEvent>();
  // A login failure waiting for its request's end (recorded as part of the denial, or alone).
  const failing = new Map<number, IdentityEvent>();
  const offs = [
    on(events.gateDecision, (e) => {
      if (!e.allow || e.concealed) refusing.set(e.connection, e);
      else if (e.gate === 'access' || !allowing.has(e.connection)) allowing.set(e.connection, e);
    }),
    on(events.requestEnded, (e) => {
      const gate = refusing.get(e.connection);
      refusing.delete(e.connection);
      const failed = failing.get(e.connection);
      failing.delete(e.connection);
      if (isDenial(e, gate)) {
        const reasons = e.reasons.length ? e.reasons : gate?.decision.reasons;
        sink.record({
          ...where(e),
          event: 'denied',
          decision: 'deny',
          user: e.user ?? gate?.user ?? failed?.claimedUser,
          scheme: scheme(gate?.scheme ?? failed?.scheme),
          protocol: e.protocol,
          method: e.method || undefined,
          path: e.path || undefined,
          status: e.status,
          reasons: reasons ? [...reasons] : undefined,
          rule: gate?.decision.rule,
          ref: e.ref,
          durationMs: e.durationMs,
          bytesIn: e.requestBytes,
          bytesOut: e.responseBytes,
          // "claimed <user>" says again what the user column says.
          text: e.detail === `claimed ${e.user ?? gate?.user}` ? undefined : e.detail,
          cause: e.concealed ? 'concealed' : undefined,
          ...deviceOf(e.device),
        });
        return;
      }
      if (failed) sink.record(loginFailedRecord(failed));
      if (level() !== 'requests') return;
      const allow = allowing.get(e.connection);
      sink.record({
        ...where(e),
        event: 'request',
        decision: e.refused ? undefined : 'allow',
        user: e.user,
        scheme: scheme(allow?.scheme),
        protocol: e.protocol,
        method: e.method,
        path: e.path,
        status: e.status,
        reasons: e.reasons.length ? [...e.reasons] : allow ? [...allow.decision.reasons] : undefined,
        rule: allow?.decision.rule,
        ref: e.ref,
        durationMs: e.durationMs,
        bytesIn: e.requestBytes,
        bytesOut: e.responseBytes,
        ...deviceOf(e.device),
      });
    }),
    on(events.identityBound, (e) => {
      const allow = allowing.get(e.connection);
      sink.record({
        ...where(e),
        event: 'identity-bound',
        decision: 'allow',
        user: e.user ?? e.claimedUser,
        scheme: scheme(e.scheme),
        protocol: e.protocol,
        reasons: allow ? [...allow.decision.reasons] : undefined,
        rule: allow?.decision.rule,
        text: e.claimedUser && e.user && e.claimedUser !== e.user ? `claimed ${e.claimedUser}` : undefined,
        ...deviceOf(allow?.device),
      });
    }),
    on(events.loginFailed, (e) => {
      if (EXCHANGE_OUTCOMES.has(e.outcome)) sink.record(loginFailedRecord(e));
      else failing.set(e.connection, e);
    }),
    on(events.connectionClosed, (e) => {
      refusing.delete(e.connection);
      allowing.delete(e.connection);
      const failed = failing.get(e.connection);
      if (failed) {
        failing.delete(e.connection);
        sink.record(loginFailedRecord(failed));
      }
      // Only identified connections (Exchange proved the user): an anonymous probe's close says
      // nothing about anyone, and a refused claim is already on the record as its denial.
      if (e.user === undefined || !e.proven) return;
      sink.record({
        ...where(e),
        event: 'connection-closed',
        user: e.user,
        scheme: scheme(e.scheme),
        protocol: e.protocol,
        bytesIn: e.bytesIn,
        bytesOut: e.bytesOut,
        durationMs: e.durationMs,
        requests: e.requests,
        cause: e.cause,
        text: e.detail,
        ...deviceOf(e.device),
      });
    }),
    on(events.userRevoked, (e) => {
      // A time no Date holds is written as a number: a record must never take the recorder down.
      const end = e.until !== undefined ? new Date(e.until) : undefined;
      const until = end ? `until ${Number.isNaN(end.getTime()) ? String(e.until) : end.toISOString()}; ` : '';
      sink.record({ ts: e.at, event: 'revoked', decision: 'deny', user: e.user, actor: e.actor, text: e.reason, cause: `${until}${e.connectionsClosed} connection(s) closed` });
    }),
    on(events.userUnrevoked, (e) => {
      sink.record({ ts: e.at, event: 'unrevoked', user: e.user, actor: e.actor, cause: e.existed ? undefined : 'was not revoked' });
    }),
    on(events.userLocked, (e) => {
      sink.record({
        ts: e.at,
        event: 'locked-out',
        decision: 'deny',
        user: e.user,
        actor: e.actor,
        cause: `${e.failures} failed logins; until ${new Date(e.until).toISOString()}; ${e.connectionsClosed} connection(s) closed`,
      });
    }),
    on(events.userUnlocked, (e) => {
      sink.record({ ts: e.at, event: 'unlocked', user: e.user, actor: e.actor });
    }),
    on(events.secondFactorEnrolled, (e) => {
      sink.record({ ts: e.at, event: '2fa-enrolled', user: e.user, clientIp: e.clientIp, zone: e.zone, cause: e.method });
    }),
    on(events.secondFactorReset, (e) => {
      sink.record(secondFactorResetRecord(e));
    }),
    on(events.configReloaded, (e) => {
      sink.record({ ts: e.at, event: 'reload', actor: e.trigger, durationMs: e.durationMs, cause: `${e.connectionsClosed} connection(s) closed` });
    }),
    on(events.reloadRefused, (e) => {
      sink.record({ ts: e.at, event: 'reload-refused', actor: e.trigger, cause: `${e.stage} invalid`, text: e.problems.join('; ').slice(0, MAX_TEXT) });
    }),
    on(events.consoleSignIn, (e) => {
      const ok = e.outcome === 'signed-in';
      sink.record({ ts: e.at, event: 'console-sign-in', decision: ok ? 'allow' : 'deny', user: e.login.slice(0, 256), clientIp: e.clientIp, cause: e.outcome, text: e.role ? `role ${e.role}` : undefined });
    }),
    on(events.adminAction, (e) => {
      sink.record({ ts: e.at, event: 'admin-action', user: e.user, actor: e.actor, cause: e.action, text: e.detail });
    }),
    on(events.deviceChanged, (e) => {
      sink.record({
        ts: e.at,
        event: 'device-changed',
        decision: e.state === 'approved' ? 'allow' : e.state === 'removed' ? undefined : 'deny',
        user: e.user,
        actor: e.actor,
        cause: e.state,
        text: e.connectionsClosed > 0 ? `${e.connectionsClosed} connection(s) closed` : undefined,
        deviceId: e.deviceId,
        deviceType: e.deviceType,
      });
    }),
    on(events.drain, (e) => {
      sink.record({ ts: e.at, event: 'drain', cause: `${e.phase}: ${e.connections} connection(s) open, deadline ${e.deadlineMs} ms` });
    }),
  ];
  return () => {
    for (const off of offs) off();
    refusing.clear();
    allowing.clear();
    failing.clear();
  };
}

/** The record of a second-factor reset: from the event here, and from `second-factor reset` when it acts on the store itself. */
export function secondFactorResetRecord(e: SecondFactorResetEvent): RecordInput {
  return { ts: e.at, event: '2fa-reset', user: e.user, actor: e.actor, cause: `${e.totp ? 'TOTP' : 'no TOTP'}, ${e.passkeys} passkey(s) forgotten` };
}

/** The device columns of a record. */
function deviceOf(d: DeviceRef | undefined): Pick<RecordInput, 'deviceId' | 'deviceType'> {
  return d ? { deviceId: d.id, deviceType: d.type } : {};
}
