import type { AddressInfo } from 'node:net';
import { setDefaultHighWaterMark } from 'node:stream';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import { ClientConnection } from '../forward/client-connection.js';
import { type RequestGate, zoneGate } from '../forward/gate.js';
import { upstreamTarget } from '../forward/upstream-connect.js';
import { buildSniTable } from './sni-contexts.js';
import { zoneResolver } from './zone-resolver.js';

const STREAM_BUFFER_BYTES = 256 * 1024;

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
  config(): GatewayConfig;
  /**
   * Swaps in a validated configuration: new requests (also on open connections) use it at once.
   * Listener addresses and certificates need a restart; that is logged, not silently ignored.
   */
  reload(next: GatewayConfig): void;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  readonly config: GatewayConfig;
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
  const servers: tls.Server[] = [];
  const running: RunningListener[] = [];
  try {
    for (const [i, l] of config.listeners.entries()) {
      const name = l.name ?? `listener-${i}`;
      const sni = buildSniTable(l.tls);
      const zoneOf = zoneResolver(l);
      const server = tls.createServer({
        ...sni.defaultContext,
        minVersion: l.tls.minVersion,
        ALPNProtocols: ['http/1.1'],
        allowHalfOpen: true,
        SNICallback: (servername, cb) => cb(null, sni.lookup(servername)),
      });
      server.on('secureConnection', (socket) => {
        new ClientConnection(socket, name, zoneOf(socket.remoteAddress), deps);
      });
      server.on('tlsClientError', (err, socket) => {
        log.debug({ listener: name, err: err.message, remote: socket.remoteAddress }, 'TLS handshake failed');
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(l.port, l.address, () => {
          server.off('error', reject);
          resolve();
        });
      });
      servers.push(server);
      const addr = server.address() as AddressInfo;
      running.push({ name, address: addr.address, port: addr.port });
      log.info({ listener: name, address: addr.address, port: addr.port, zone: l.zone }, 'listening');
    }
  } catch (e) {
    for (const s of servers) s.close();
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
      target = upstreamTarget(next.upstream);
      current = next;
    },
    async stop() {
      const closing = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const c of [...registry]) c.close('gateway stopping');
      // Sockets still in their TLS handshake are not in the registry; do not wait on them forever.
      await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 2_000).unref())]);
    },
  };
}
