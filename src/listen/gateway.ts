import { setDefaultHighWaterMark } from 'node:stream';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import type { HttpConfig, UpstreamConfig } from '../forward/forward-schema.js';
import type { ConnectionContext } from '../forward/connection-context.js';
import type { Protocol } from '../vocabulary/protocols.js';
import type { Zone } from '../vocabulary/zones.js';
import type { ConnectionsConfig, ListenerConfig } from './listen-schema.js';
import { ClientConnection } from '../forward/client-connection.js';
import { type RequestGate, zoneGate } from '../forward/gate.js';
import { upstreamTarget } from '../forward/upstream-connect.js';
import { ConnectionGuard, type ConnectionStats } from './connection-guard.js';
import { forwardedForGate } from './forwarded-for.js';
import { keyFilePermissionProblems } from './key-permissions.js';
import { type ListenerSettings, type OpenListener, type Peer, listenerSettings, openListener } from './tls-listener.js';

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
  /** The listeners accepting now, in configuration order (a reload may add or remove some). */
  readonly listeners: readonly RunningListener[];
  /** Live client connections (each with its pinned upstream). */
  readonly connections: ReadonlySet<ClientConnection>;
  /** The configuration new requests see. */
  config(): GatewaySections;
  /**
   * Swaps in a validated configuration: new requests (also on open connections) use it at once.
   * Certificates are read again (also when only their files changed); new TLS handshakes get
   * them, established connections keep theirs. Listeners added are opened, listeners removed stop
   * accepting (their connections stay). Rejects, with nothing changed, when a certificate cannot
   * be loaded or a new listener cannot listen; resolves with what the reload changed.
   */
  reload(next: GatewaySections): Promise<string[]>;
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

/**
 * What identifies a listener across reloads: its address and port (a port-0 listener, tests only,
 * by its position too). Renaming one or changing its TLS keeps it; moving it opens a new one.
 */
function listenerKey(l: ListenerConfig, i: number): string {
  return l.port === 0 ? `${l.address}|0|${i}` : `${l.address}|${l.port}`;
}

const nameOf = (l: ListenerConfig, i: number) => l.name ?? `listener-${i}`;

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
  const open = new Map<string, OpenListener>();
  /** The listener that accepted each connection, for the X-Forwarded-For gate (its settings in force). */
  const listenerOf = new WeakMap<ConnectionContext, () => ListenerSettings>();
  const deps = {
    config: () => current,
    upstream: () => target,
    // X-Forwarded-For first: the zone gate and every later gate judge the real client.
    gates: [forwardedForGate((conn) => listenerOf.get(conn)?.()), zoneGate(() => current.zones), ...(opts.gates ?? [])],
    log,
    registry,
  };
  const guard = new ConnectionGuard(config.connections, log);
  const secured = (socket: tls.TLSSocket, settings: () => ListenerSettings, peer: Peer) => {
    const s = settings();
    listenerOf.set(new ClientConnection(socket, s.name, s.zoneOf(peer.address), deps, peer), settings);
  };
  const warnKeyFiles = (c: GatewaySections) => {
    for (const p of keyFilePermissionProblems(c)) log.warn({ listener: p.listener, file: p.file, mode: p.mode }, p.message);
  };
  warnKeyFiles(config);
  try {
    for (const [i, l] of config.listeners.entries()) open.set(listenerKey(l, i), await openListener(listenerSettings(l, nameOf(l, i)), { guard, log, secured }));
  } catch (e) {
    for (const o of open.values()) void o.close();
    guard.close();
    throw e;
  }
  const running = (): RunningListener[] =>
    current.listeners.map((l, i) => open.get(listenerKey(l, i))!).map((o) => ({ name: o.settings().name, address: o.address, port: o.port }));
  return {
    get listeners() {
      return running();
    },
    connections: registry,
    config: () => current,
    async reload(next) {
      // Everything that can fail happens before anything changes: certificates are read and
      // their contexts built, then new listeners opened (and closed again if one cannot listen).
      const wanted = next.listeners.map((l, i) => ({ key: listenerKey(l, i), settings: listenerSettings(l, nameOf(l, i)) }));
      const added = new Map<string, OpenListener>();
      try {
        for (const w of wanted) if (!open.has(w.key)) added.set(w.key, await openListener(w.settings, { guard, log, secured }));
      } catch (e) {
        for (const o of added.values()) void o.close();
        throw new Error(`a new listener could not start (${(e as Error).message}); nothing was changed`);
      }
      const notes: string[] = [];
      const keep = new Set(wanted.map((w) => w.key));
      for (const [key, o] of open) {
        if (keep.has(key)) continue;
        open.delete(key);
        // Not awaited: close() resolves only when the last connection accepted there has ended.
        void o.close();
        notes.push(`listener ${o.settings().name} (${o.address}:${o.port}) removed: no new connections, established ones stay`);
      }
      for (const w of wanted) {
        const o = open.get(w.key);
        if (o) o.update(w.settings);
        else {
          open.set(w.key, added.get(w.key)!);
          notes.push(`listener ${w.settings.name} added`);
        }
      }
      warnKeyFiles(next);
      if (JSON.stringify(next.connections) !== JSON.stringify(current.connections)) guard.configure(next.connections);
      target = upstreamTarget(next.upstream);
      current = next;
      return notes;
    },
    stats: () => ({ connections: guard.stats() }),
    async stop(drainMs = 0) {
      const closing = [...open.values()].map((o) => o.close());
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
