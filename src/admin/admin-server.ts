// The local admin endpoint: what `portcullis revoke`, `policy explain --admin` and operators use
// against the running gateway. Plain HTTP on loopback by default; a token file adds a bearer check.
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { PROTOCOLS, type Protocol } from '../classify/protocols.js';
import type { GatewayConfig, Zone } from '../config/schema.js';
import { claimOfLogon } from '../identity/basic.js';
import type { Control } from './control.js';

export interface AdminServer {
  readonly url: string;
  stop(): Promise<void>;
}

export interface AdminDeps {
  readonly control: Control;
  readonly log: Logger;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 1024) throw new Error('body too large');
    parts.push(c as Buffer);
  }
  const text = Buffer.concat(parts).toString('utf8') || '{}';
  const v = JSON.parse(text) as unknown;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected a JSON object');
  return v as Record<string, unknown>;
}

export async function startAdmin(cfg: NonNullable<GatewayConfig['admin']>, deps: AdminDeps): Promise<AdminServer> {
  const token = cfg.tokenFile ? Buffer.from(readFileSync(cfg.tokenFile, 'utf8').trim()) : undefined;
  const { control, log } = deps;
  const users = control.users;

  /** Resolves a user argument (DOMAIN\user, UPN, bare name) to its directory key. */
  const resolve = async (user: unknown): Promise<{ key: string } | { error: string }> => {
    const claim = typeof user === 'string' ? claimOfLogon(user) : undefined;
    if (!claim) return { error: 'user must be DOMAIN\\user or user@domain' };
    const r = await control.lookup(claim);
    if (r.status === 'found') return { key: r.entry.key };
    // Revoking someone the directory cannot confirm still works: by the name as given.
    if (claim.domain) return { key: `${claim.domain.toUpperCase()}\\${claim.user.toLowerCase()}` };
    return { error: `user ${String(user)}: ${r.status}` };
  };

  const routes: Record<string, (req: http.IncomingMessage, url: URL) => Promise<[number, unknown]>> = {
    'GET /healthz': async () => [200, { ok: true }],
    'GET /api/connections': async () => [200, await control.connections()],
    'POST /api/revoke': async (req) => {
      const body = await readJson(req);
      const who = await resolve(body['user']);
      if ('error' in who) return [400, who];
      const m = body['minutes'];
      if (m !== undefined && !(typeof m === 'number' && Number.isFinite(m) && m > 0)) return [400, { error: 'minutes must be a positive number' }];
      const minutes = m as number | undefined;
      const t0 = performance.now();
      const { revocation: r, closed } = await control.revoke(who.key, typeof body['reason'] === 'string' ? body['reason'] : 'revoked by an administrator', minutes ? minutes * 60_000 : undefined);
      log.warn({ user: who.key, closed, reasons: ['revoked'] }, 'user revoked');
      return [200, { revoked: r, closedConnections: closed, ms: Math.round((performance.now() - t0) * 10) / 10 }];
    },
    'POST /api/unrevoke': async (req) => {
      const who = await resolve((await readJson(req))['user']);
      if ('error' in who) return [400, who];
      return [200, { user: who.key, removed: await control.unrevoke(who.key) }];
    },
    'GET /api/revocations': async () => [200, users.revocations()],
    'GET /api/lockouts': async () => [200, users.lockouts()],
    'POST /api/unlock': async (req) => {
      const who = await resolve((await readJson(req))['user']);
      if ('error' in who) return [400, who];
      await control.unlock(who.key);
      return [200, { user: who.key, unlocked: true }];
    },
    'POST /api/reload': async () => {
      const ok = await control.reload();
      return [ok ? 200 : 422, { reloaded: ok }];
    },
    'POST /api/explain': async (req) => {
      const body = await readJson(req);
      const protocol = body['protocol'] as Protocol;
      const zone = body['zone'] as Zone;
      if (!PROTOCOLS.includes(protocol) || (zone !== 'external' && zone !== 'internal')) return [400, { error: 'protocol and zone are required' }];
      const claim = typeof body['user'] === 'string' ? claimOfLogon(body['user']) : undefined;
      if (!claim) return [400, { error: 'user must be DOMAIN\\user or user@domain' }];
      const r = await control.lookup(claim);
      const ctx = { zone, remoteAddress: typeof body['client'] === 'string' ? body['client'] : '203.0.113.1' };
      if (r.status !== 'found') return [200, { user: body['user'], lookup: r.status, decision: { allow: false, reasons: [r.status === 'not-found' ? 'unknown-user' : r.status === 'unknown-domain' ? 'unknown-domain' : 'directory-unavailable'] } }];
      return [200, { user: r.entry.key, groups: r.entry.groups, enabled: r.entry.enabled, revoked: users.isRevoked(r.entry.key), lockedOut: users.isLockedOut(r.entry.key), decision: control.evaluate(r, protocol, ctx) }];
    },
  };

  const server = http.createServer((req, res) => {
    if (token) {
      const given = Buffer.from((req.headers.authorization ?? '').replace(/^Bearer /i, ''));
      if (given.length !== token.length || !timingSafeEqual(given, token)) return send(res, 401, { error: 'admin token required' });
    }
    const url = new URL(req.url ?? '/', 'http://admin');
    const route = routes[`${req.method} ${url.pathname}`];
    if (!route) return send(res, 404, { error: 'no such endpoint' });
    route(req, url).then(
      ([status, body]) => send(res, status, body),
      (e: Error) => send(res, 400, { error: e.message }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.address, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.address.includes(':') ? `[${a.address}]` : a.address;
  log.info({ address: a.address, port: a.port }, 'admin endpoint listening');
  return {
    url: `http://${host}:${a.port}`,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
