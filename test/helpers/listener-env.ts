// A bare gateway (no identity or policy gates) in front of a canned upstream, with its log lines
// captured: for the listener-level tests (connection limits, handshake, TLS parameters).
import { readdirSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import pino from 'pino';
import { configSchema } from '../../src/config/schema.js';
import { type Gateway, startGateway } from '../../src/listen/gateway.js';
import { type Canned, cannedServer } from './canned-upstream.js';
import { type Pki, testPki } from './env.js';

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [k: string]: unknown;
}

export interface ListenerEnv {
  readonly pki: Pki;
  readonly gateway: Gateway;
  readonly upstream: Canned;
  readonly port: number;
  readonly logs: LogLine[];
  stop(): Promise<void>;
}

export interface ListenerEnvOptions {
  /** Merged over the listener's `tls` object. */
  readonly tls?: Record<string, unknown>;
  /** The `connections` section. */
  readonly connections?: Record<string, unknown>;
  /** Merged over the listener object. */
  readonly listener?: Record<string, unknown>;
  /** Milliseconds the upstream waits before answering. */
  readonly upstreamDelayMs?: number;
}

const OK = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');

export async function startListenerEnv(o: ListenerEnvOptions = {}): Promise<ListenerEnv> {
  const pki = await testPki();
  const upstream = await cannedServer(() => OK);
  const logs: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as LogLine) });
  const config = configSchema.parse({
    listeners: [
      {
        name: 'ext',
        port: 0,
        zone: 'internal',
        ...o.listener,
        tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }], ...o.tls },
      },
    ],
    upstream: { url: upstream.url, tls: { ca: pki.caFile } },
    ...(o.connections ? { connections: o.connections } : {}),
    log: { level: 'silent' },
  });
  const gateway = await startGateway({ config, log });
  return {
    pki,
    gateway,
    upstream,
    port: gateway.listeners[0]!.port,
    logs,
    async stop() {
      await gateway.stop();
      await upstream.stop();
    },
  };
}

/** Open descriptors of this process (the gateway runs in it). */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

export async function waitFor(cond: () => boolean, ms: number, step = 20): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, step));
  }
  return true;
}

/** Waits until the descriptor count is back at (or below) `base`; the last count seen. */
export async function settleFds(base: number, ms: number): Promise<number> {
  await waitFor(() => fdCount() <= base, ms, 50);
  return fdCount();
}

export interface TlsClientOptions {
  readonly servername?: string;
  readonly ciphers?: string;
  readonly minVersion?: tls.SecureVersion;
  readonly maxVersion?: tls.SecureVersion;
  readonly ca?: string;
}

/** A TLS client connection; rejects when the handshake fails. */
export function tlsConnect(port: number, o: TlsClientOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      servername: o.servername ?? 'mail.lab.example',
      ...(o.ca ? { ca: o.ca } : { rejectUnauthorized: false }),
      ...(o.ciphers ? { ciphers: o.ciphers } : {}),
      ...(o.minVersion ? { minVersion: o.minVersion } : {}),
      ...(o.maxVersion ? { maxVersion: o.maxVersion } : {}),
      ALPNProtocols: ['http/1.1'],
    });
    s.once('secureConnect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Sends one request on an open TLS socket and reads until the server closes; the whole answer. */
export function requestOn(s: tls.TLSSocket, opts: { halfClose?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => resolve(got));
    s.write('GET /owa/ HTTP/1.1\r\nHost: mail.lab.example\r\nConnection: close\r\n\r\n');
    if (opts.halfClose) s.end();
  });
}

/** One GET on a new connection: the status line of the answer. */
export async function get(port: number, o: TlsClientOptions = {}): Promise<string> {
  const s = await tlsConnect(port, o);
  const answer = await requestOn(s);
  return answer.split('\r\n')[0] ?? '';
}

/**
 * A TCP connection that never sends a byte; `closed` settles when the gateway ends it. A socket
 * the gateway resets at accept may fail before its connect event: it resolves all the same.
 */
export function silentSocket(port: number, localAddress = '127.0.0.1'): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    socket.on('error', () => {});
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('close', () => resolve({ socket, closed }));
    socket.resume();
  });
}

/** Settles true when `p` settles within `ms`, false otherwise. */
export function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
}
