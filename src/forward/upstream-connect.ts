import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { UpstreamConfig } from './forward-schema.js';
import type { UpstreamReason } from '../vocabulary/reasons.js';

export interface UpstreamTarget {
  /** `host:port`, for the record. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly tls: tls.ConnectionOptions;
}

/** Resolves the upstream URL and TLS settings once; every connection reuses the options object. */
export function upstreamTarget(cfg: UpstreamConfig): UpstreamTarget {
  const url = new URL(cfg.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const servername = cfg.tls.servername ?? (net.isIP(host) ? undefined : host);
  const port = url.port ? Number(url.port) : 443;
  return {
    name: `${net.isIPv6(host) ? `[${host}]` : host}:${port}`,
    host,
    port,
    tls: {
      host,
      port: url.port ? Number(url.port) : 443,
      ...(servername ? { servername } : {}),
      // One SecureContext for every upstream connection: passing `ca` per connect makes Node build a
      // new SSL_CTX and certificate store for each one (measured: tens of KiB per pinned pair).
      // Client-side sessions are never cached in it (Node disables OpenSSL's internal cache).
      secureContext: tls.createSecureContext(cfg.tls.ca ? { ca: readFileSync(cfg.tls.ca) } : {}),
      rejectUnauthorized: !cfg.tls.insecure,
      ALPNProtocols: ['http/1.1'],
      // Exchange's TLS session is per client connection anyway; tickets would only tie users together.
      session: undefined,
    },
  };
}

/** Opens one dedicated upstream connection. Never pooled, never reused by another client. */
export function connectUpstream(target: UpstreamTarget): tls.TLSSocket {
  const socket = tls.connect(target.tls);
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 60_000);
  return socket;
}

export interface UpstreamFailure {
  readonly status: 502 | 503 | 504;
  readonly reason: UpstreamReason;
  readonly message: string;
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME|TLS|SSL|EPROTO|HOSTNAME/;

/** Names the cause of an upstream failure in words an admin can act on. */
export function describeUpstreamError(err: NodeJS.ErrnoException | undefined, phase: 'connect' | 'response'): UpstreamFailure {
  const code = err?.code ?? '';
  if (code === 'PC_CONNECT_TIMEOUT') {
    return { status: 504, reason: 'upstream-connect-timeout', message: 'Exchange did not accept the connection in time' };
  }
  if (code === 'PC_RESPONSE_TIMEOUT') {
    return { status: 504, reason: 'upstream-response-timeout', message: 'Exchange did not answer in time' };
  }
  if (code === 'ECONNREFUSED') {
    return { status: 503, reason: 'upstream-refused', message: 'Exchange refused the connection (service down?)' };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return { status: 502, reason: 'upstream-dns', message: 'the Exchange host name does not resolve' };
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return { status: 502, reason: 'upstream-unreachable', message: 'no route to Exchange' };
  }
  if (TLS_CODES.test(code)) {
    return { status: 502, reason: 'upstream-tls', message: `TLS to Exchange failed: ${code}` };
  }
  if (code === 'PC_BAD_RESPONSE') {
    return { status: 502, reason: 'upstream-bad-response', message: `Exchange sent an invalid response: ${err?.message ?? ''}` };
  }
  if (code === 'PC_UPSTREAM_CLOSED') {
    return { status: 502, reason: 'upstream-closed', message: 'Exchange closed the connection without answering' };
  }
  return {
    status: 502,
    reason: phase === 'connect' ? 'upstream-connect-failed' : 'upstream-reset',
    message: `connection to Exchange failed${code ? ` (${code})` : ''}`,
  };
}

export function pcError(code: string, message: string): NodeJS.ErrnoException {
  const e = new Error(message) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}
