// One listener: a plain TCP server that accepts, the guard that admits, an optional PROXY header,
// then TLS. Its TLS material and settings can be replaced while it runs (update): new handshakes
// get the new certificate, established connections keep the TLS session they have.
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { blockListOf, parseCidr, plainAddress } from '../vocabulary/cidr.js';
import type { Zone } from '../vocabulary/zones.js';
import type { ListenerConfig } from './listen-schema.js';
import { type ConnectionGuard, rawOf } from './connection-guard.js';
import { readProxyHeader } from './proxy-admission.js';
import { type SniTable, buildSniTable } from './sni-contexts.js';
import { secureContextOptions } from './tls-defaults.js';
import { zoneResolver } from './zone-resolver.js';

/** A listener's TLS contexts and per-connection settings, built (files read) before anything changes. */
export interface ListenerSettings {
  readonly config: ListenerConfig;
  readonly name: string;
  readonly sni: SniTable;
  readonly zoneOf: (remote: string | undefined) => Zone;
  readonly proxySources: net.BlockList;
  /** forwardedFor.trustedProxies, when this listener believes X-Forwarded-For. */
  readonly trustedProxies: net.BlockList | undefined;
}

/** Reads the certificate files and builds every context; throws (with the reason) when one is unusable. */
export function listenerSettings(l: ListenerConfig, name: string): ListenerSettings {
  const list = (cidrs: readonly string[]) => blockListOf(cidrs.map((c) => parseCidr(c)!));
  const trusted = l.forwardedFor?.trustedProxies;
  return { config: l, name, sni: buildSniTable(l.tls), zoneOf: zoneResolver(l), proxySources: list(l.proxySources), trustedProxies: trusted ? list(trusted) : undefined };
}

/** Why the certificates of a configuration cannot be loaded (a key that does not match, a missing file), or undefined. */
export function certificateProblem(config: { readonly listeners: readonly ListenerConfig[] }): string | undefined {
  for (const [i, l] of config.listeners.entries()) {
    try {
      buildSniTable(l.tls);
    } catch (e) {
      return `listener ${l.name ?? `listener-${i}`}: ${(e as Error).message}`;
    }
  }
  return undefined;
}

export interface Peer {
  readonly address: string;
  readonly port: number;
}

export interface OpenListener {
  readonly address: string;
  readonly port: number;
  settings(): ListenerSettings;
  /** New TLS material and settings for the connections accepted from now on. */
  update(s: ListenerSettings): void;
  /** Stops accepting; connections already established stay. */
  close(): Promise<void>;
}

export interface ListenerDeps {
  readonly guard: ConnectionGuard;
  readonly log: Logger;
  /**
   * A TLS connection is established: `peer` is the client (PROXY header's, else the socket's);
   * `settings` reads this listener's settings in force (a reload may replace them).
   */
  readonly secured: (socket: tls.TLSSocket, settings: () => ListenerSettings, peer: Peer) => void;
}

const tlsOptions = (s: ListenerSettings): tls.SecureContextOptions => ({ ...s.sni.defaultContext, ...secureContextOptions(s.config.tls) });

export async function openListener(first: ListenerSettings, deps: ListenerDeps): Promise<OpenListener> {
  const { guard, log } = deps;
  let cur = first;
  /** Clients named by a PROXY header, by accepted socket. */
  const proxied = new WeakMap<net.Socket, Peer>();
  // The TLS server never listens: a plain TCP server accepts, the guard counts or refuses the
  // socket before any TLS work, and only admitted sockets are handed to TLS. Half-open stays
  // off until the handshake completes: a client that closes its side before that is closed
  // (with allowHalfOpen on the server, every such socket stayed in CLOSE-WAIT for good).
  const tlsServer = tls.createServer({
    ...tlsOptions(cur),
    ALPNProtocols: ['http/1.1'],
    // Node's timer is an idle timer that only reports; the guard's deadline is absolute and closes.
    handshakeTimeout: 0,
    // Read per handshake, so a reload's certificates answer the next ClientHello.
    SNICallback: (servername, cb) => cb(null, cur.sni.lookup(servername)),
  });
  tlsServer.on('secureConnection', (socket: tls.TLSSocket) => {
    guard.secured(socket);
    // Now a request may follow: a client that half-closes after sending a complete request
    // still gets its answer (ClientConnection decides when to close).
    socket.allowHalfOpen = true;
    socket.on('error', (e: NodeJS.ErrnoException) => {
      // Node reports TLS errors on an established socket (a session attack, a fatal alert)
      // without closing it; nothing useful can follow them.
      if (e.code === 'ERR_TLS_SESSION_ATTACK') guard.sessionAttack(cur.name, socket);
      else socket.destroy();
    });
    const raw = rawOf(socket);
    const peer = (raw && proxied.get(raw)) ?? { address: plainAddress(socket.remoteAddress ?? '').address, port: socket.remotePort ?? 0 };
    deps.secured(socket, () => cur, peer);
  });
  // Counted and logged (throttled) by the guard when the socket closes.
  tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => guard.handshakeError(socket, err));

  const server = net.createServer({ allowHalfOpen: false }, (raw) => {
    const s = cur;
    if (!guard.admit(s.name, raw)) return;
    if (!s.config.proxyProtocol) return void tlsServer.emit('connection', raw);
    // Only the load balancers may say who the client is; anyone else could claim any address.
    const from = plainAddress(raw.remoteAddress ?? '');
    if (!s.proxySources.check(from.address, from.family)) return guard.end(raw, 'proxy-untrusted');
    void readProxyHeader(raw, s.config.proxyHeaderTimeout).then((r) => {
      if (raw.destroyed) return;
      if (!r.ok) return guard.end(raw, r.cause, r.cause === 'proxy-invalid' ? r.message.slice(0, 120) : undefined);
      if (r.client) {
        if (!guard.proxied(raw, r.client.address)) return;
        proxied.set(raw, { address: plainAddress(r.client.address).address, port: r.client.port });
      }
      tlsServer.emit('connection', raw);
    });
  });
  const l = first.config;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(l.port, l.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // accept() errors (EMFILE when the process is out of descriptors) must not end the process.
  server.on('error', (e) => log.error({ listener: cur.name, err: e.message }, 'listener error'));
  const addr = server.address() as net.AddressInfo;
  log.info({ listener: cur.name, address: addr.address, port: addr.port, zone: l.zone, proxyProtocol: l.proxyProtocol || undefined }, 'listening');
  return {
    address: addr.address,
    port: addr.port,
    settings: () => cur,
    update(s) {
      // setSecureContext replaces the default context for the next handshakes only; a TLS socket
      // keeps the context it was created with, so no established connection notices.
      tlsServer.setSecureContext(tlsOptions(s));
      cur = s;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
