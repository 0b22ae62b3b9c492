import type { Protocol } from '../classify/protocols.js';
import type { GatewayConfig } from '../config/schema.js';
import type { RequestHead } from '../http/request-head.js';
import type { ConnectionContext } from './connection-context.js';

export type GateVerdict =
  | { readonly allow: true }
  | { readonly allow: false; readonly status: number; readonly reason: string; readonly message: string };

/**
 * Asked for every request before a byte of it reaches Exchange. The zone gate below is the only
 * one in the gateway core; identity and policy plug in here as further gates.
 */
export interface RequestGate {
  check(ctx: ConnectionContext, head: RequestHead, protocol: Protocol): GateVerdict;
}

/** Refuses protocols a zone may not reach at all (external: unknown paths, ECP, PowerShell). */
export function zoneGate(zones: GatewayConfig['zones']): RequestGate {
  return {
    check(ctx, _head, protocol) {
      if (zones[ctx.zone].blockedProtocols.includes(protocol)) {
        return {
          allow: false,
          status: 403,
          reason: 'protocol-blocked-in-zone',
          message: `${protocol} is not published to the ${ctx.zone} zone`,
        };
      }
      return { allow: true };
    },
  };
}
