// Anonymous health probes of Exchange's virtual directories (/owa/healthcheck.htm, …: Managed
// Availability's page, "200 OK" and the server's name, served without authentication). Without
// this, the rule that a 2xx answer to a request without proven credentials is refused
// (`unauthenticated-answer`, unproven-verdicts.ts) turns every probe through the gateway into a
// 403. Only this exact page, only GET/HEAD, only in the zones `policy.healthProbes` names.
import type { GateVerdict } from '../forward/gate.js';

const HEALTH_PAGE = /^\/(owa|ecp|ews|microsoft-server-activesync|mapi|oab|autodiscover|rpc|powershell|api)\/healthcheck\.htm$/;

/** The canonical path (lower-case) is a virtual directory's healthcheck.htm, fetched by GET or HEAD. */
export function isHealthProbe(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && HEALTH_PAGE.test(path);
}

/**
 * Passes the probe as an anonymous request (credentials stripped: nothing may authenticate the
 * connection on a page that proves nothing), and its answer whatever the status.
 */
export function healthProbeVerdict(): GateVerdict {
  return { allow: true, stripAuthorization: true, decision: { allow: true, reasons: ['health-probe'] } };
}
