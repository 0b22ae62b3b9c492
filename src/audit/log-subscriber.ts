// The log lines of the request path, written by a subscriber of the events seam (src/events.ts)
// the way undici's debug log subscribes to undici's channels: the core publishes, this turns what
// it hears into pino lines. Every line names the client address and port; a refusal names the
// user claimed even when it came before the password was checked, and its reasons and reference id.
import type { Logger } from 'pino';
import { type TypedChannel, events } from '../events.js';

const GATEWAY_CLOSES = new Set(['access-withdrawn', 'drain-timeout', 'gateway-stopping']);

/** Subscribes `log` to the lifecycle channels; returns the function that unsubscribes it. */
export function subscribeLog(log: Logger): () => void {
  const offs: Array<() => void> = [];
  const on = <T>(ch: TypedChannel<T>, fn: (ev: T) => void) => {
    ch.subscribe(fn);
    offs.push(() => void ch.unsubscribe(fn));
  };

  // The level is fixed for the process: below info nobody hears of requests, and the data path
  // then builds no request record for this subscriber at all.
  if (log.isLevelEnabled('info')) on(events.requestEnded, (e) => {
    const reason = e.reasons.length > 0 ? e.reasons.join(', ') : undefined;
    const fields = {
      conn: e.connection,
      client: e.clientIp,
      clientPort: e.clientPort,
      zone: e.zone,
      method: e.method || undefined,
      path: e.path || undefined,
      protocol: e.protocol,
      user: e.user,
      status: e.status,
      reason,
      ...(e.concealed ? { concealed: true } : {}),
      ...(e.detail !== undefined ? { detail: e.detail } : {}),
      ...(e.ref ? { ref: e.ref } : {}),
      ...(e.device ? { device: e.device.id, deviceType: e.device.type } : {}),
      reqBytes: e.requestBytes,
      resBytes: e.responseBytes,
      ms: Math.round(e.durationMs),
    };
    log.info(fields, e.concealed ? 'request refused (client sees an anonymous answer)' : e.refused ? 'request refused' : 'request');
  });

  on(events.connectionClosed, (e) => {
    if (!GATEWAY_CLOSES.has(e.cause)) return;
    const fields = { conn: e.connection, client: e.clientIp, clientPort: e.clientPort, cause: e.cause, reason: e.detail, user: e.user, protocol: e.protocol, requests: e.requests, ms: Math.round(e.durationMs) };
    if (e.cause === 'drain-timeout') log.warn(fields, 'connection closed at the drain deadline');
    else log.info(fields, 'connection closed by gateway');
  });

  on(events.upstreamFailed, (e) => {
    log.warn({ conn: e.connection, client: e.clientIp, reason: e.reason, code: e.code, phase: e.phase, upstream: e.upstream }, e.message);
  });

  if (log.isLevelEnabled('debug')) on(events.identityBound, (e) => {
    log.debug({ conn: e.connection, client: e.clientIp, user: e.user, via: e.scheme }, 'identity bound');
  });

  on(events.userRevoked, (e) => {
    log.warn({ user: e.user, actor: e.actor, reason: e.reason, until: e.until ? new Date(e.until).toISOString() : undefined, closed: e.connectionsClosed, reasons: ['revoked'] }, 'user revoked');
  });
  on(events.userUnrevoked, (e) => log.info({ user: e.user, actor: e.actor, existed: e.existed }, 'revocation lifted'));
  on(events.userUnlocked, (e) => log.info({ user: e.user, actor: e.actor }, 'lockout lifted'));
  on(events.secondFactorEnrolled, (e) => log.info({ user: e.user, method: e.method, client: e.clientIp, zone: e.zone }, 'second factor enrolled'));
  on(events.secondFactorReset, (e) => log.warn({ user: e.user, actor: e.actor, totp: e.totp, passkeys: e.passkeys }, 'second factor reset'));
  on(events.consoleSignIn, (e) =>
    e.outcome === 'signed-in' ? log.info({ login: e.login, client: e.clientIp, role: e.role }, 'console sign-in') : log.warn({ login: e.login, client: e.clientIp, outcome: e.outcome }, 'console sign-in refused'),
  );
  on(events.adminAction, (e) => log.info({ actor: e.actor, action: e.action, user: e.user, detail: e.detail }, 'console action'));
  on(events.deviceChanged, (e) => {
    const fields = { user: e.user, device: e.deviceId, deviceType: e.deviceType, state: e.state, actor: e.actor, closed: e.connectionsClosed };
    if (e.state === 'blocked') log.warn({ ...fields, reasons: ['device-blocked'] }, 'device blocked');
    else log.info(fields, e.state === 'quarantined' ? 'new device quarantined' : e.state === 'removed' ? 'device removed' : 'device approved');
  });

  return () => {
    for (const off of offs.splice(0)) off();
  };
}
