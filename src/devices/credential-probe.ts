// Before the device gate refuses a device to a client that has not proven its password on this
// connection, Exchange checks the password: the gateway sends OPTIONS /Microsoft-Server-ActiveSync
// with the client's own Basic credentials over a connection of its own (used once, never a
// client's), so that the device's 403 is told only to the password's owner. Without it, a 403
// "device quarantined" to any password told an anonymous client that the user exists and uses
// ActiveSync, and let it fill the user's quarantine list. OPTIONS runs no command: the device gets
// nothing from Exchange.
import { callExchange } from '../forward/exchange-client.js';
import type { UpstreamConfig } from '../forward/forward-schema.js';
import { type UpstreamTarget, upstreamTarget } from '../forward/upstream-connect.js';
import type { ResponseHead } from '../http/response-head.js';

/** Exchange's answer to the client's credentials (its status), or undefined when it gave none. */
export type CredentialProbe = (authorization: string, host: string) => Promise<ResponseHead | undefined>;

const PROBE_PATH = '/Microsoft-Server-ActiveSync';
/** As long as Exchange may take to check a password against AD (the sign-in page allows the same). */
const PROBE_TIMEOUT_MS = 15_000;

/** `upstream`: the running config's (a reload may change it); the target is rebuilt when it does. */
export function activeSyncCredentialProbe(upstream: () => UpstreamConfig, timeoutMs = PROBE_TIMEOUT_MS): CredentialProbe {
  let built: { cfg: UpstreamConfig; target: UpstreamTarget } | undefined;
  const target = () => {
    const cfg = upstream();
    if (built?.cfg !== cfg) built = { cfg, target: upstreamTarget(cfg) };
    return built.target;
  };
  return async (authorization, host) => {
    try {
      const a = await callExchange(target(), { method: 'OPTIONS', path: PROBE_PATH, host, headers: { Authorization: authorization } }, timeoutMs);
      // Only the status is judged (proof or refusal); Exchange's headers never reach the client from here.
      return { version: '1.1', status: a.status, reason: '', headers: [] };
    } catch {
      return undefined;
    }
  };
}
