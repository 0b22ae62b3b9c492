import net, { type AddressInfo } from 'node:net';
import { setDefaultHighWaterMark } from 'node:stream';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { HttpConfig, UpstreamConfig } from '../forward/forward-schema.js';
import type { Protocol } from '../vocabulary/protocols.js';
import type { Zone } from '../vocabulary/zones.js';
import type { ConnectionsConfig, ListenerConfig } from './listen-schema.js';
import { ClientConnection } from '../forward/client-connection.js';
import { type RequestGate, zoneGate } from '../forward/gate.js';
import { upstreamTarget } from '../forward/upstream-connect.js';
import { ConnectionGuard, type ConnectionStats } from './connection-guard.js';
import { keyFilePermissionProblems } from './key-permissions.js';
import { buildSniTable } from './sni-contexts.js';
import { secureContextOptions } from './tls-defaults.js';
import { zoneResolver } from './zone-resolver.js';

const STREAM_BUFFER_BYTES = 256 * 1024;

/** The configuration sections the listeners and their connections read. */
export interface GatewaySections {
  readonly listeners: readonly ListenerConfig[];
  readonly connections: ConnectionsConfig;
  readonly upstream: UpstreamConfig;
  readonly http: HttpConfig;
  readonly zones: Readonly<Record<Zone, { readonly blockedProtocols: readonly Protocol[] }>>;
}

export interface RunningListener {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

export interface Gateway {
  readonly listeners: readonly RunningListener[];
  /** Live client connections (each with its pinned upstream). */
  readonly connections: ReadonlySet<ClientConnection>;
  /** The configuration new requests see. */
  config(): GatewaySections;
  /**
   * Swaps in a validated configuration: new requests (also on open connections) use it at once.
   * Listener addresses and certificates need a restart; that is logged, not silently ignored.
   */
  reload(next: GatewaySections): void;
  /**
   * Connection counters: sockets open and in their handshake, limits in effect, and every socket
   * refused or closed before serving, by cause (also published on portcullis:connection:refused).
   */
  stats(): GatewayStats;
  /** Stops accepting and closes every connection; with `drainMs`, lets exchanges in flight finish first. */
  stop(drainMs?: number): Promise<void>;
}

export interface GatewayStats {
  readonly connections: ConnectionStats;
}

export interface GatewayOptions {
  readonly config: GatewaySections;
  readonly log: Logger;
  /** Gates asked after the zone gate, in order (identity and policy plug in here). */
  readonly gates?: readonly RequestGate[];
}

/** Starts every configured listener and wires accepted sockets to pinned client connections. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const { config, log } = opts;
  if (config.upstream.tls.insecure) {
    log.warn({ upstream: config.upstream.url }, 'UPSTREAM TLS VERIFICATION IS DISABLED (upstream.tls.insecure): do not run this in production');
  }
  // Room for a few TLS records per socket before write() reports back-pressure: with Node's 16 KiB
  // default every 16 KiB record of a 1 GiB RPC_IN_DATA paused and resumed the client socket (two
  // epoll changes per record). Memory is only used while data is in flight, never by idle pairs.
  setDefaultHighWaterMark(false, STREAM_BUFFER_BYTES);
  const registry = new Set<ClientConnection>();
  let current = config;
  let target = upstreamTarget(config.upstream);
  const deps = {
    config: () => current,
    upstream: () => target,
    gates: [zoneGate(() => current.zones), ...(opts.gates ?? [])],
    log,
    registry,
  };
  for (const p of keyFilePermissionProblems(config)) log.warn({ listener: p.listener, file: p.file, mode: p.mode }, p.message);
  const guard = new ConnectionGuard(config.connections, log);
  const servers: net.Server[] = [];
  const running: RunningListener[] = [];
  try {
    for (const [i, l] of config.listeners.entries()) {
      const name = l.name ?? `listener-${i}`;
      const sni = buildSniTable(l.tls);
      const zoneOf = zoneResolver(l);
      // The TLS server never listens: a plain TCP server accepts, the guard counts or refuses the
      // socket before any TLS work, and only admitted sockets are handed to TLS. Half-open stays
      // off until the handshake completes: a client that closes its side before that is closed
      // (with allowHalfOpen on the server, every such socket stayed in CLOSE-WAIT for good).
      const tlsServer = tls.createServer({
        ...sni.defaultContext,
        ...secureContextOptions(l.tls),
        ALPNProtocols: ['http/1.1'],
        // Node's timer is an idle timer that only reports; the guard's deadline is absolute and closes.
        handshakeTimeout: 0,
        SNICallback: (servername, cb) => cb(null, sni.lookup(servername)),
      });
      tlsServer.on('secureConnection', (socket: tls.TLSSocket) => {
        guard.secured(socket);
        // Now a request may follow: a client that half-closes after sending a complete request
        // still gets its answer (ClientConnection decides when to close).
        socket.allowHalfOpen = true;
        socket.on('error', (e: NodeJS.ErrnoException) => {
          // Node reports TLS errors on an established socket (a session attack, a fatal alert)
          // without closing it; nothing useful can follow them.
          if (e.code === 'ERR_TLS_SESSION_ATTACK') guard.sessionAttack(name, socket);
          else socket.destroy();
        });
        new ClientConnection(socket, name, zoneOf(socket.remoteAddress), deps);
      });
      // Counted and logged (throttled) by the guard when the socket closes.
      tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => guard.handshakeError(socket, err));
      const server = net.createServer({ allowHalfOpen: false }, (raw) => {
        if (guard.admit(name, raw)) tlsServer.emit('connection', raw);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(l.port, l.address, () => {
          server.off('error', reject);
          resolve();
        });
      });
      // accept() errors (EMFILE when the process is out of descriptors) must not end the process.
      server.on('error', (e) => log.error({ listener: name, err: e.message }, 'listener error'));
      servers.push(server);
      const addr = server.address() as AddressInfo;
      running.push({ name, address: addr.address, port: addr.port });
      log.info({ listener: name, address: addr.address, port: addr.port, zone: l.zone }, 'listening');
    }
  } catch (e) {
    for (const s of servers) s.close();
    guard.close();
    throw e;
  }
  return {
    listeners: running,
    connections: registry,
    config: () => current,
    reload(next) {
      if (JSON.stringify(next.listeners) !== JSON.stringify(current.listeners)) {
        log.warn('listener or certificate changes take effect after a restart');
      }
      if (JSON.stringify(next.connections) !== JSON.stringify(current.connections)) guard.configure(next.connections);
      target = upstreamTarget(next.upstream);
      current = next;
    },
    stats: () => ({ connections: guard.stats() }),
    async stop(drainMs = 0) {
      const closing = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      guard.closeHandshaking();
      if (drainMs > 0) {
        // Graceful shutdown: nothing new is accepted; what is in flight may finish.
        for (const c of [...registry]) c.drain();
        const deadline = Date.now() + drainMs;
        while (registry.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
        if (registry.size > 0) log.warn({ connections: registry.size, drainMs }, 'drain time-out: closing the connections still open');
      }
      for (const c of [...registry]) c.close(drainMs > 0 ? 'drain-timeout' : 'gateway-stopping');
      // A client that never reads the last bytes of a graceful close must not hold the stop.
      await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 2_000).unref())]);
      guard.close();
    },
  };
}
