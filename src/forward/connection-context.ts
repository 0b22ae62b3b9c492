import type { CloseCause } from '../events.js';
import type { AuthScheme } from '../vocabulary/claim.js';
import type { Protocol } from '../vocabulary/protocols.js';
import type { Zone } from '../vocabulary/zones.js';
import type { DirectoryEntry } from '../directory/provider.js';
import type { DeviceRef } from '../vocabulary/device.js';

/** What is known about the request currently on a connection. */
export interface RequestInfo {
  readonly method: string;
  /** Canonical path (lower-case, decoded); never the query, which may carry addresses. */
  readonly path: string;
  readonly protocol: Protocol;
  readonly startedAt: number;
  /** The ActiveSync device the request's query named (every EAS command names one). */
  readonly device?: DeviceRef | undefined;
}

/** Who the credentials of the request in flight named: kept for the record even when refused. */
export interface ClaimNote {
  /** As the client wrote it (`DOMAIN\\user`, a UPN); never a password. */
  readonly claimed: string | undefined;
  /** The directory key, once found (`kerberos` for an opaque ticket). */
  readonly user: string | undefined;
  readonly scheme: AuthScheme;
}

export interface BoundIdentity {
  /** 'user': a directory user; 'kerberos': authenticated, but the user is not visible. */
  readonly kind: 'user' | 'kerberos';
  readonly entry?: DirectoryEntry;
  /** How the client authenticated. */
  readonly via: AuthScheme;
  readonly at: number;
  /** Keyed fingerprint of a Basic credential proven on this connection (repeats need no new slot). */
  readonly secret?: string;
}

/**
 * The per-client-connection state object. Everything the gateway learns about a connection lives
 * here: the next stages (identity, policy, revocation) attach the identity and decision to it,
 * and it is never shared with another connection.
 */
export interface ConnectionContext {
  readonly id: number;
  readonly listener: string;
  /** The client's zone and address (PROXY protocol's when the listener has it); see relocate. */
  readonly zone: Zone;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly servername: string | undefined;
  readonly openedAt: number;
  /**
   * Set only on proof that Exchange authenticated this user on this connection (a 2xx answer from
   * an endpoint that requires authentication); never inherited by another connection.
   */
  identity: BoundIdentity | undefined;
  /**
   * Claimed by the request in flight and allowed, not yet proven (an RPC_IN_DATA channel has no
   * answer until it ends): revocation and re-evaluation treat it like a bound identity.
   */
  pending: BoundIdentity | undefined;
  /** Protocol of the last request (what a re-evaluation checks the identity against). */
  lastProtocol: Protocol | undefined;
  requests: number;
  bytesFromClient: number;
  bytesToClient: number;
  current: RequestInfo | undefined;
  /** Set by the access gate for the request in flight; cleared when the next request starts. */
  claim?: ClaimNote | undefined;
  /** Why the connection closed, once it did (the gates settle after it is set). */
  closeCause?: CloseCause | undefined;
  /** Closes the connection and its upstream at once (revocation, shutdown). */
  close(cause: CloseCause, detail?: string): void;
  /**
   * The client behind a trusted HTTP proxy (X-Forwarded-For, src/listen/forwarded-for.ts): set
   * once, by the first gate of the first request, before anything is judged or forwarded.
   */
  relocate?(address: string, zone: Zone): void;
}
