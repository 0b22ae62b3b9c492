import { channel } from 'node:diagnostics_channel';

/**
 * Why a socket ended before it became a client connection (or, for `renegotiation`, was cut
 * after it):
 * - `per-source-limit`, `total-limit`: refused at accept (connections.perSource / .total);
 * - `handshake-timeout`: no completed TLS handshake within connections.handshakeTimeout;
 * - `handshake-failed`: the TLS handshake failed (no shared cipher or version, not TLS at all, …);
 * - `handshake-aborted`: the client closed or reset the socket before the handshake completed;
 * - `renegotiation`: a TLS session attack (repeated renegotiation) on an established connection;
 * - `proxy-untrusted`: a proxyProtocol listener was reached from outside its proxySources;
 * - `proxy-invalid`: no valid PROXY header, or one that names no client address;
 * - `proxy-timeout`: no complete PROXY header within the listener's proxyHeaderTimeout.
 */
export const CONNECTION_END_CAUSES = [
  'per-source-limit',
  'total-limit',
  'handshake-timeout',
  'handshake-failed',
  'handshake-aborted',
  'renegotiation',
  'proxy-untrusted',
  'proxy-invalid',
  'proxy-timeout',
] as const;
export type ConnectionEndCause = (typeof CONNECTION_END_CAUSES)[number];

/**
 * Published for every socket refused or closed by the listener before (or instead of) serving it:
 * metrics subscribe, the core imports no observer. Free when nobody subscribes.
 */
export const connectionRefusedChannel = channel('portcullis:connection:refused');

export interface ConnectionRefusedEvent {
  readonly listener: string;
  readonly remoteAddress: string;
  readonly cause: ConnectionEndCause;
  /** The TLS error code for handshake-failed (e.g. ERR_SSL_NO_SHARED_CIPHER). */
  readonly code?: string | undefined;
}

export function publishConnectionRefused(ev: ConnectionRefusedEvent): void {
  if (connectionRefusedChannel.hasSubscribers) connectionRefusedChannel.publish(ev);
}
