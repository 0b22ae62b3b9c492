// /healthz and /readyz, on the admin endpoint and optionally on a dedicated plain-HTTP listener
// for load-balancer probes (`health:`). Both answer anyone, under any Host, and say nothing but
// the process' state: no user, no address, no configuration.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { HealthConfig } from './health-schema.js';
import type { Readiness } from './readiness.js';

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

/** Answers a probe and returns true, or returns false when the request is not one. */
export function answerProbe(req: http.IncomingMessage, res: http.ServerResponse, readiness: Readiness): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = (req.url ?? '').split('?')[0];
  if (path === '/healthz') {
    json(res, 200, { ok: true });
    return true;
  }
  if (path === '/readyz') {
    readiness.report().then(
      (r) => json(res, r.ready ? 200 : 503, r),
      (e: Error) => json(res, 503, { ready: false, error: e.message }),
    );
    return true;
  }
  return false;
}

export interface HealthServer {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startHealthServer(cfg: HealthConfig, readiness: Readiness, log: Logger): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    if (!answerProbe(req, res, readiness)) json(res, 404, { error: 'only /healthz and /readyz here' });
  });
  // Probes are short: a peer that holds a socket open must not keep it for long.
  server.requestTimeout = 5_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.address, () => resolve());
  });
  const a = server.address() as AddressInfo;
  log.info({ address: a.address, port: a.port }, 'health probes listening');
  const host = a.address.includes(':') ? `[${a.address}]` : a.address;
  return {
    url: `http://${host}:${a.port}`,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
