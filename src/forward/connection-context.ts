import type { Protocol } from '../classify/protocols.js';
import type { Zone } from '../config/schema.js';

/** What is known about the request currently on a connection. */
export interface RequestInfo {
  readonly method: string;
  /** Canonical path (lower-case, decoded); never the query, which may carry addresses. */
  readonly path: string;
  readonly protocol: Protocol;
  readonly startedAt: number;
}

/**
 * The per-client-connection state object. Everything the gateway learns about a connection lives
 * here: the next stages (identity, policy, revocation) attach the identity and decision to it,
 * and it is never shared with another connection.
 */
export interface ConnectionContext {
  readonly id: number;
  readonly listener: string;
  readonly zone: Zone;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly servername: string | undefined;
  readonly openedAt: number;
  /** Set by the identity stage once the upstream accepted the handshake. */
  identity: unknown;
  requests: number;
  bytesFromClient: number;
  bytesToClient: number;
  current: RequestInfo | undefined;
  /** Closes the connection and its upstream at once (revocation, shutdown). */
  close(reason: string): void;
}
