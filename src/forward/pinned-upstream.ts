// The one upstream connection pinned to a client connection: opened for its first allowed
// request, never pooled, destroyed with it. NTLM and Negotiate authenticate the TCP connection,
// so any sharing would hand one user's Exchange session to another (HAProxy #581, Traefik #3792).
import type tls from 'node:tls';
import { events } from '../events.js';
import type { Protocol } from '../vocabulary/protocols.js';
import type { ConnectionContext } from './connection-context.js';
import { connectionRef } from './connection-record.js';
import { type UpstreamFailure, type UpstreamTarget, connectUpstream, pcError } from './upstream-connect.js';

export interface UpstreamHandlers {
  data(chunk: Buffer): void;
  error(err: NodeJS.ErrnoException): void;
  closed(): void;
}

export class PinnedUpstream {
  readonly socket: tls.TLSSocket;
  /** The TLS handshake with Exchange completed: bytes written before it may never have left. */
  connected = false;
  private readonly timer: NodeJS.Timeout;
  private readonly startedAt = performance.now();

  constructor(
    private readonly conn: ConnectionContext,
    private readonly target: UpstreamTarget,
    /** The protocol of the request that opened it (pinned pairs are counted by it). */
    readonly protocol: Protocol,
    connectTimeoutMs: number,
    on: UpstreamHandlers,
  ) {
    const up = connectUpstream(target);
    this.socket = up;
    this.timer = setTimeout(() => up.destroy(pcError('PC_CONNECT_TIMEOUT', 'connect timeout')), connectTimeoutMs);
    up.once('secureConnect', () => {
      this.connected = true;
      clearTimeout(this.timer);
      if (events.upstreamConnected.hasSubscribers) {
        events.upstreamConnected.publish({ ...connectionRef(conn), upstream: target.name, protocol, connectMs: performance.now() - this.startedAt });
      }
    });
    up.on('data', on.data);
    up.on('error', on.error);
    up.on('close', on.closed);
  }

  /** Puts a failure on the record (the connection answers or closes). */
  failed(f: UpstreamFailure, err: NodeJS.ErrnoException): void {
    if (!events.upstreamFailed.hasSubscribers) return;
    events.upstreamFailed.publish({
      ...connectionRef(this.conn),
      upstream: this.target.name,
      phase: this.connected ? 'response' : 'connect',
      reason: f.reason,
      code: err.code,
      message: f.message,
      protocol: this.conn.current?.protocol,
    });
  }

  destroy(): void {
    clearTimeout(this.timer);
    this.socket.removeAllListeners('data');
    this.socket.on('error', () => {});
    this.socket.destroy();
  }
}
