// Admission of sockets before TLS: per-source and total caps counted from accept (handshakes
// included), an absolute handshake deadline, and the counters and events of every socket that
// ended before it became a client connection. Issue #10: without these, sockets closed or left
// silent before the handshake exhausted the process' descriptors and killed every listener.
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { blockListOf, parseCidr, plainAddress } from '../vocabulary/cidr.js';
import type { ConnectionsConfig } from './listen-schema.js';
import { CONNECTION_END_CAUSES, type ConnectionEndCause, type ConnectionRefusedEvent, events } from '../events.js';
import { ThrottledLog } from './throttled-log.js';

export type { ConnectionsConfig };

/** One summary log line per listener and cause per interval under attack. */
const LOG_INTERVAL_MS = 10_000;
/** `total: auto` without a readable descriptor limit (not Linux). */
const FALLBACK_TOTAL = 10_000;

/** The soft limit on open descriptors of this process (Node raises it to the hard limit at start). */
export function openFileLimit(limitsFile = '/proc/self/limits'): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(readFileSync(limitsFile, 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `total: auto`: every admitted client connection may hold two descriptors (itself and its pinned
 * upstream), and a reserve (a tenth of the limit, 64 to 1,000) stays for the admin endpoint, the
 * directory, logs, workers' IPC and the listening sockets. 20,000 descriptors → 9,500.
 */
export function autoTotal(fdLimit: number | undefined): number {
  if (fdLimit === undefined) return FALLBACK_TOTAL;
  const reserve = Math.min(1_000, Math.max(64, Math.floor(fdLimit / 10)));
  return Math.max(1, Math.floor((fdLimit - reserve) / 2));
}

/** Expands a (URL-canonical, dot-free) IPv6 address into its eight 16-bit groups. */
function ipv6Groups(address: string): number[] | undefined {
  let canonical: string;
  try {
    canonical = new URL(`http://[${address.split('%')[0]}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head, tail] = canonical.split('::') as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const a = part(head);
  const b = part(tail);
  const groups = tail === undefined ? a : [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * What the per-source limit counts a client as: its IPv4 address, or its IPv6 prefix (a /64 is
 * one subscriber's LAN: counting single addresses would let one client take 2^64 of them).
 */
export function sourceKey(remote: string, ipv6PrefixLength: number): string {
  const { address, family } = plainAddress(remote);
  if (family === 'ipv4' || ipv6PrefixLength >= 128) return address;
  const groups = ipv6Groups(address);
  if (!groups) return address;
  let bits = ipv6PrefixLength;
  const masked = groups.map((g) => {
    const keep = Math.max(0, Math.min(16, bits));
    bits -= keep;
    return keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
  });
  return `${masked.map((g) => g.toString(16)).join(':')}/${ipv6PrefixLength}`;
}

export type CauseCounts = Record<ConnectionEndCause, number>;

export interface ListenerConnectionStats {
  /** Sockets admitted at accept (refused ones not included). */
  readonly accepted: number;
  /** Admitted sockets still open (in the handshake or serving). */
  readonly open: number;
  /** Of those, the ones still in their TLS handshake. */
  readonly handshaking: number;
  /** Sockets refused or closed before serving, by cause. */
  readonly ended: CauseCounts;
}

export interface ConnectionStats extends ListenerConnectionStats {
  readonly limits: {
    readonly perSource: number;
    readonly total: number;
    readonly handshakeTimeoutMs: number;
    /** The process' open-descriptor limit (undefined when unknown). */
    readonly fdLimit: number | undefined;
  };
  /** Distinct sources (addresses, IPv6 prefixes) with open sockets. */
  readonly sources: number;
  readonly listeners: Readonly<Record<string, ListenerConnectionStats>>;
}

interface Counters {
  accepted: number;
  open: number;
  handshaking: number;
  readonly ended: CauseCounts;
}

interface Tracked {
  readonly listener: string;
  readonly counters: Counters;
  readonly raw: net.Socket;
  remote: string;
  source: string;
  secured: boolean;
  cause: ConnectionEndCause | undefined;
  code: string | undefined;
  timer: NodeJS.Timeout | undefined;
}

interface Limits {
  readonly perSource: number;
  readonly exempt: net.BlockList;
  readonly ipv6PrefixLength: number;
  readonly total: number;
  readonly handshakeTimeout: number;
}

const zeroCauses = (): CauseCounts => Object.fromEntries(CONNECTION_END_CAUSES.map((c) => [c, 0])) as CauseCounts;

const LOG_LINES: Record<ConnectionEndCause, { level: 'warn' | 'info' | 'debug'; msg: string }> = {
  'per-source-limit': { level: 'warn', msg: 'connection refused: this client address holds connections.perSource connections' },
  'total-limit': { level: 'warn', msg: 'connection refused: the gateway holds connections.total connections' },
  'handshake-timeout': { level: 'info', msg: 'TLS handshake not completed within connections.handshakeTimeout: socket closed' },
  'handshake-failed': { level: 'info', msg: 'TLS handshake failed: socket closed' },
  'handshake-aborted': { level: 'debug', msg: 'client closed the socket before the TLS handshake completed' },
  renegotiation: { level: 'warn', msg: 'TLS renegotiation attack: connection closed' },
  'proxy-untrusted': { level: 'warn', msg: 'connection refused: a proxyProtocol listener accepts only its proxySources' },
  'proxy-invalid': { level: 'warn', msg: 'connection refused: no valid PROXY protocol header' },
  'proxy-timeout': { level: 'info', msg: 'PROXY protocol header not received within proxyHeaderTimeout: socket closed' },
};

/** The TLS socket a tls.Server built around an accepted socket keeps it as `_parent` (Node since 0.11). */
export function rawOf(socket: tls.TLSSocket): net.Socket | undefined {
  return (socket as tls.TLSSocket & { _parent?: net.Socket })._parent;
}

export class ConnectionGuard {
  private limits!: Limits;
  private open = 0;
  private handshaking = 0;
  private readonly bySource = new Map<string, number>();
  private readonly tracked = new Map<net.Socket, Tracked>();
  private readonly perListener = new Map<string, Counters>();
  private readonly totals: Counters = { accepted: 0, open: 0, handshaking: 0, ended: zeroCauses() };
  private readonly throttle = new ThrottledLog(LOG_INTERVAL_MS);
  readonly fdLimit: number | undefined;

  constructor(
    cfg: ConnectionsConfig,
    private readonly log: Logger,
    fdLimit: number | undefined = openFileLimit(),
  ) {
    this.fdLimit = fdLimit;
    this.configure(cfg);
  }

  /** Applies (new) limits; sockets already open stay, new ones are counted against them. */
  configure(cfg: ConnectionsConfig): void {
    const safe = autoTotal(this.fdLimit);
    const total = cfg.total === 'auto' ? safe : cfg.total;
    this.limits = {
      perSource: cfg.perSource,
      exempt: blockListOf(cfg.perSourceExempt.map((c) => parseCidr(c)!)),
      ipv6PrefixLength: cfg.ipv6PrefixLength,
      total,
      handshakeTimeout: cfg.handshakeTimeout,
    };
    this.log.info({ perSource: cfg.perSource, perSourceExempt: cfg.perSourceExempt, total, fdLimit: this.fdLimit, handshakeTimeoutMs: cfg.handshakeTimeout }, 'connection limits');
    if (cfg.total !== 'auto' && this.fdLimit !== undefined && cfg.total > safe) {
      this.log.warn(
        { total: cfg.total, fdLimit: this.fdLimit, safeTotal: safe },
        'connections.total allows more sockets than the descriptor limit can hold with their upstreams: raise the limit (ulimit -n, LimitNOFILE) or lower connections.total',
      );
    }
  }

  /**
   * Called for every accepted socket before any TLS work. Refused sockets are reset at once
   * (no TIME_WAIT, no descriptor kept); admitted ones are counted until they close.
   */
  admit(listener: string, raw: net.Socket): boolean {
    const counters = this.counters(listener);
    raw.on('error', () => {}); // a reset before the TLS socket takes over must not throw
    const remote = raw.remoteAddress;
    if (remote === undefined) {
      raw.destroy(); // reset before we saw it
      this.count(listener, counters, '', 'handshake-aborted', undefined);
      return false;
    }
    const lim = this.limits;
    const source = sourceKey(remote, lim.ipv6PrefixLength);
    const plain = plainAddress(remote);
    if ((this.bySource.get(source) ?? 0) >= lim.perSource && !lim.exempt.check(plain.address, plain.family)) {
      this.refuse(listener, counters, raw, plain.address, 'per-source-limit');
      return false;
    }
    if (this.open >= lim.total) {
      this.refuse(listener, counters, raw, plain.address, 'total-limit');
      return false;
    }
    const t: Tracked = { listener, counters, raw, remote: plain.address, source, secured: false, cause: undefined, code: undefined, timer: undefined };
    this.open++;
    this.handshaking++;
    this.totals.accepted++;
    counters.accepted++;
    counters.open++;
    counters.handshaking++;
    this.bySource.set(source, (this.bySource.get(source) ?? 0) + 1);
    this.tracked.set(raw, t);
    // Absolute: Node's own handshakeTimeout is an idle timer (a client sending one byte every few
    // seconds would never hit it) and only reports, it does not close.
    t.timer = setTimeout(() => {
      t.cause ??= 'handshake-timeout';
      raw.destroy();
    }, lim.handshakeTimeout);
    raw.once('close', () => this.closed(t));
    return true;
  }

  /**
   * An admitted socket's PROXY header named its real client: from now on the socket counts
   * against that client's per-source limit (not the load balancer's) and is logged under its
   * address. False (and the socket reset) when that client is already at its limit.
   */
  proxied(raw: net.Socket, client: string): boolean {
    const t = this.tracked.get(raw);
    if (!t) return false;
    const plain = plainAddress(client);
    const source = sourceKey(client, this.limits.ipv6PrefixLength);
    this.release(t.source);
    t.remote = plain.address;
    t.source = source;
    const held = this.bySource.get(source) ?? 0;
    this.bySource.set(source, held + 1);
    if (held >= this.limits.perSource && !this.limits.exempt.check(plain.address, plain.family)) {
      this.end(raw, 'per-source-limit');
      return false;
    }
    return true;
  }

  /** Ends an admitted socket before its handshake for `cause` (PROXY header refusals): reset, counted once. */
  end(raw: net.Socket, cause: ConnectionEndCause, code?: string): void {
    const t = this.tracked.get(raw);
    if (t && !t.secured && t.cause === undefined) {
      t.cause = cause;
      t.code = code;
    }
    raw.resetAndDestroy();
  }

  /** The TLS handshake of an admitted socket completed: it is a client connection from now on. */
  secured(socket: tls.TLSSocket): void {
    const raw = rawOf(socket);
    const t = raw && this.tracked.get(raw);
    if (!t || t.secured) return;
    clearTimeout(t.timer);
    t.timer = undefined;
    t.secured = true;
    this.handshaking--;
    t.counters.handshaking--;
  }

  /** tlsClientError: Node reports a failed handshake but leaves the socket open; close it. */
  handshakeError(socket: tls.TLSSocket, err: NodeJS.ErrnoException): void {
    const raw = rawOf(socket);
    const t = raw && this.tracked.get(raw);
    if (t && !t.secured && t.cause === undefined) {
      t.cause = err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'handshake-aborted' : 'handshake-failed';
      t.code = err.code;
    }
    socket.destroy();
    raw?.destroy();
  }

  /** A TLS session attack on an established connection (repeated renegotiation): close it. */
  sessionAttack(listener: string, socket: tls.TLSSocket): void {
    const raw = rawOf(socket);
    const remote = plainAddress(raw?.remoteAddress ?? socket.remoteAddress ?? '').address;
    this.count(listener, this.counters(listener), remote, 'renegotiation', undefined);
    socket.destroy();
  }

  /** Closes every socket still in its handshake (gateway stop). */
  closeHandshaking(): void {
    for (const t of this.tracked.values()) if (!t.secured) t.raw.destroy();
  }

  /** Logs the counts not yet logged and stops the log timers. */
  close(): void {
    this.throttle.close();
  }

  stats(): ConnectionStats {
    const snap = (c: Counters): ListenerConnectionStats => ({ accepted: c.accepted, open: c.open, handshaking: c.handshaking, ended: { ...c.ended } });
    return {
      limits: { perSource: this.limits.perSource, total: this.limits.total, handshakeTimeoutMs: this.limits.handshakeTimeout, fdLimit: this.fdLimit },
      ...snap({ ...this.totals, open: this.open, handshaking: this.handshaking }),
      sources: this.bySource.size,
      listeners: Object.fromEntries([...this.perListener].map(([name, c]) => [name, snap(c)])),
    };
  }

  private counters(listener: string): Counters {
    let c = this.perListener.get(listener);
    if (!c) {
      c = { accepted: 0, open: 0, handshaking: 0, ended: zeroCauses() };
      this.perListener.set(listener, c);
    }
    return c;
  }

  private refuse(listener: string, counters: Counters, raw: net.Socket, remote: string, cause: ConnectionEndCause): void {
    // A reset frees the descriptor now and leaves no TIME_WAIT behind, whatever the client does.
    raw.resetAndDestroy();
    this.count(listener, counters, remote, cause, undefined);
  }

  private closed(t: Tracked): void {
    clearTimeout(t.timer);
    this.tracked.delete(t.raw);
    this.open--;
    t.counters.open--;
    this.release(t.source);
    if (t.secured) return;
    this.handshaking--;
    t.counters.handshaking--;
    // Without a report the client hung up (tlsClientError may come after this close).
    this.count(t.listener, t.counters, t.remote, t.cause ?? 'handshake-aborted', t.code);
  }

  private release(source: string): void {
    const n = (this.bySource.get(source) ?? 1) - 1;
    if (n > 0) this.bySource.set(source, n);
    else this.bySource.delete(source);
  }

  private count(listener: string, counters: Counters, remote: string, cause: ConnectionEndCause, code: string | undefined): void {
    counters.ended[cause]++;
    this.totals.ended[cause]++;
    if (events.connectionRefused.hasSubscribers) events.connectionRefused.publish({ listener, remoteAddress: remote, cause, code } satisfies ConnectionRefusedEvent);
    const line = LOG_LINES[cause];
    if (!this.log.isLevelEnabled(line.level)) return;
    this.throttle.hit(`${listener}|${cause}`, remote, (count, sources, first) => {
      const fields = first ? { listener, cause, remote, code } : { listener, cause, count, sources, intervalMs: LOG_INTERVAL_MS };
      this.log[line.level](fields, first ? line.msg : `${line.msg} (${count} more since the last line)`);
    });
  }
}
