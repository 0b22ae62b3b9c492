// The local admin endpoint: what `portcullis revoke`, `policy explain --admin` and operators use
// against the running gateway. Plain HTTP on loopback by default, and never open: every request
// but GET /healthz passes the checks in admin-guard.ts (Host, Origin, the bearer token in
// admin.tokenFile, JSON bodies). /healthz answers {"ok":true} to anyone, under any Host, so a
// load balancer can probe it; it says nothing but "this process is alive".
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { PROTOCOLS, type Protocol } from '../classify/protocols.js';
import type { GatewayConfig, Zone } from '../config/schema.js';
import { claimOfLogon } from '../identity/basic.js';
import { protocolNamed } from '../policy/protocol-names.js';
import { adminAddressWarning, type AllowedHosts, allowedHosts, checkRequest, tokenDigest } from './admin-guard.js';
import { type AdminToken, ensureAdminToken } from './admin-token.js';
import type { Control } from './control.js';

export interface AdminServer {
  readonly url: string;
  /** The file the token lives in (clients read it through the config). */
  readonly tokenFile: string;
  /** The bearer token every request must carry, for in-process callers (tests). */
  readonly token: string;
  /** True when this start generated the token: `portcullis serve` prints it, once. */
  readonly tokenCreated: boolean;
  stop(): Promise<void>;
}

export interface AdminDeps {
  readonly control: Control;
  readonly log: Logger;
  /** The token, when the caller read it before starting anything else (ensureAdminToken). */
  readonly token?: AdminToken | undefined;
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
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
  const { control, log } = deps;
  const token = deps.token ?? ensureAdminToken(cfg.tokenFile);
  const digest = tokenDigest(token.value);
  for (const w of token.warnings) log.warn(w);
  const exposed = adminAddressWarning(cfg);
  if (exposed) log.warn(exposed);
  let allowed: AllowedHosts | undefined;
  const users = control.users;

  /**
   * Resolves a user argument (DOMAIN\user, UPN, bare name) to its directory key. A name the
   * directory does not know is refused unless `anyName` (unrevoke and unlock act on whatever was
   * recorded, and `revoke --force` on a name as given): a typo must not look like a revocation.
   * With the directory down, a DOMAIN\user name is taken as given, so an emergency revoke works.
   */
  const resolve = async (user: unknown, anyName = false): Promise<{ key: string; directory?: string } | { status: number; error: string }> => {
    const claim = typeof user === 'string' ? claimOfLogon(user) : undefined;
    if (!claim) return { status: 400, error: 'user must be DOMAIN\\user or user@domain' };
    const r = await control.lookup(claim);
    if (r.status === 'found') return { key: r.entry.key };
    const asGiven = claim.domain ? `${claim.domain.toUpperCase()}\\${claim.user.toLowerCase()}` : undefined;
    if (r.status === 'unavailable') {
      if (asGiven) return { key: asGiven, directory: `unavailable: ${r.reason}` };
      return { status: 503, error: `directory-unavailable: ${r.reason} (give the user as DOMAIN\\user to act on the name as written)` };
    }
    if (anyName && asGiven) return { key: asGiven, directory: r.status };
    const why = r.status === 'unknown-domain' ? 'is in no domain this gateway serves' : 'is not in the directory';
    return { status: 404, error: `${String(user)} ${why}: check the spelling${anyName ? ', or give it as DOMAIN\\user' : ' (--force acts on the name as given)'}` };
  };

  const routes: Record<string, (req: http.IncomingMessage, url: URL) => Promise<[number, unknown]>> = {
    'GET /api/connections': async () => [200, await control.connections()],
    'GET /api/stats': async () => [200, await control.stats()],
    'POST /api/revoke': async (req) => {
      const body = await readJson(req);
      const who = await resolve(body['user'], body['force'] === true);
      if ('error' in who) return [who.status, { error: who.error }];
      const m = body['minutes'];
      if (m !== undefined && !(typeof m === 'number' && Number.isFinite(m) && m > 0)) return [400, { error: 'minutes must be a positive number' }];
      const minutes = m as number | undefined;
      const t0 = performance.now();
      const { revocation: r, closed } = await control.revoke(who.key, typeof body['reason'] === 'string' ? body['reason'] : 'revoked by an administrator', minutes ? minutes * 60_000 : undefined);
      log.warn({ user: who.key, closed, reasons: ['revoked'] }, 'user revoked');
      return [200, { revoked: r, closedConnections: closed, ms: Math.round((performance.now() - t0) * 10) / 10, ...(who.directory ? { directory: who.directory } : {}) }];
    },
    'POST /api/unrevoke': async (req) => {
      const who = await resolve((await readJson(req))['user'], true);
      if ('error' in who) return [who.status, { error: who.error }];
      return [200, { user: who.key, removed: await control.unrevoke(who.key) }];
    },
    'GET /api/revocations': async () => [200, users.revocations()],
    'GET /api/lockouts': async () => [200, users.lockouts()],
    'POST /api/unlock': async (req) => {
      const who = await resolve((await readJson(req))['user'], true);
      if ('error' in who) return [who.status, { error: who.error }];
      await control.unlock(who.key);
      return [200, { user: who.key, unlocked: true }];
    },
    'POST /api/reload': async () => {
      const ok = await control.reload();
      return [ok ? 200 : 422, { reloaded: ok }];
    },
    'POST /api/explain': async (req) => {
      const body = await readJson(req);
      const protocol = (typeof body['protocol'] === 'string' ? protocolNamed(body['protocol']) : undefined) as Protocol;
      const zone = body['zone'] as Zone;
      if (!PROTOCOLS.includes(protocol) || (zone !== 'external' && zone !== 'internal')) return [400, { error: 'protocol and zone are required' }];
      const claim = typeof body['user'] === 'string' ? claimOfLogon(body['user']) : undefined;
      if (!claim) return [400, { error: 'user must be DOMAIN\\user or user@domain' }];
      const r = await control.lookup(claim);
      const ctx = { zone, remoteAddress: typeof body['client'] === 'string' ? body['client'] : '203.0.113.1' };
      if (r.status !== 'found') {
        const reason = r.status === 'not-found' ? 'unknown-user' : r.status === 'unknown-domain' ? 'unknown-domain' : 'directory-unavailable';
        return [200, { user: body['user'], lookup: r.status, ...(r.status === 'unavailable' ? { cause: r.reason } : {}), decision: { allow: false, reasons: [reason] } }];
      }
      return [200, { user: r.entry.key, groups: r.entry.groups, enabled: r.entry.enabled, revoked: users.isRevoked(r.entry.key), lockedOut: users.isLockedOut(r.entry.key), decision: control.evaluate(r, protocol, ctx) }];
    },
  };

  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/healthz') return send(res, 200, { ok: true });
    const refused = allowed ? checkRequest(req, allowed, digest) : { status: 421 as const, reason: 'not-ready', error: 'not ready' };
    if (refused) {
      log.warn({ client: req.socket.remoteAddress, reason: refused.reason, status: refused.status }, 'admin request refused');
      return send(res, refused.status, { error: refused.error }, refused.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="portcullis-admin"' } : {});
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin');
    } catch {
      return send(res, 400, { error: 'request target must be a path' });
    }
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
  allowed = allowedHosts({ address: a.address, port: a.port }, cfg.allowedHosts);
  log.info({ address: a.address, port: a.port, tokenFile: token.file }, 'admin endpoint listening');
  return {
    url: `http://${host}:${a.port}`,
    tokenFile: token.file,
    token: token.value,
    tokenCreated: token.created,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
