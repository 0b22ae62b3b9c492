// The local admin endpoint: what `portcullis revoke`, `policy explain --admin` and operators use
// against the running gateway. Plain HTTP on loopback by default, and never open: every request
// but GET /healthz and /readyz passes the checks in admin-guard.ts (Host, Origin, the bearer token
// in admin.tokenFile, JSON bodies); /metrics too (Prometheus sends the token from a file). The
// probes answer anyone, under any Host, so a load balancer can use them (src/health).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { PROTOCOLS, type Protocol } from '../vocabulary/protocols.js';
import type { AdminConfig } from './admin-schema.js';
import type { Zone } from '../vocabulary/zones.js';
import { claimOfLogon } from '../identity/basic.js';
import { protocolNamed } from '../policy/protocol-names.js';
import { adminAddressWarning, type AllowedHosts, allowedHosts, checkRequest, consoleCookieWarning, tokenDigest } from './admin-guard.js';
import { type AdminToken, ensureAdminToken } from './admin-token.js';
import type { Control } from './control.js';
import { deviceRoutes } from './device-routes.js';
import { answerProbe } from '../health/health-server.js';
import { type ConsoleHandler, createConsole } from './console/console-server.js';
import type { ConsoleSources } from './console/console-sources.js';
import { type Resettable, resetSecondFactor } from '../signin/second-factor-reset.js';
import { revokeMinutesProblem } from '../policy/revocation-length.js';

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
  /** What the console reads besides the control (admin.console); absent: its Policy and Audit pages say so. */
  readonly console?: ConsoleSources | undefined;
  /** The second factor of browser sign-in (signin.secondFactor); absent: its reset answers 404. */
  readonly secondFactor?: Resettable | undefined;
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

export async function startAdmin(cfg: AdminConfig, deps: AdminDeps): Promise<AdminServer> {
  const { control, log } = deps;
  const token = deps.token ?? ensureAdminToken(cfg.tokenFile);
  const digest = tokenDigest(token.value);
  for (const w of token.warnings) log.warn(w);
  const exposed = adminAddressWarning(cfg);
  if (exposed) log.warn(exposed);
  const cookies = consoleCookieWarning(cfg);
  if (cookies) log.warn(cookies);
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

  /** Who asked: the admin token names no person, so the CLI adds the caller's login name. */
  const actorOf = (body: Record<string, unknown>): string => {
    const a = body['actor'];
    return typeof a === 'string' && /^[\w.@\\-]{1,64}$/.test(a) ? `admin:${a}` : 'admin';
  };

  const routes: Record<string, (req: http.IncomingMessage, url: URL) => Promise<[number, unknown]>> = {
    'GET /api/connections': async () => [200, await control.connections()],
    'GET /api/stats': async () => [200, await control.stats()],
    'POST /api/revoke': async (req) => {
      const body = await readJson(req);
      const who = await resolve(body['user'], body['force'] === true);
      if ('error' in who) return [who.status, { error: who.error }];
      const m = body['minutes'];
      const mProblem = m === undefined ? undefined : revokeMinutesProblem(m);
      if (mProblem) return [400, { error: mProblem }];
      const minutes = m as number | undefined;
      const t0 = performance.now();
      const reason = typeof body['reason'] === 'string' ? body['reason'].slice(0, 500) : 'revoked by an administrator';
      const { revocation: r, closed } = await control.revoke(who.key, reason, minutes ? minutes * 60_000 : undefined, actorOf(body));
      return [200, { revoked: r, closedConnections: closed, ms: Math.round((performance.now() - t0) * 10) / 10, ...(who.directory ? { directory: who.directory } : {}) }];
    },
    'POST /api/unrevoke': async (req) => {
      const body = await readJson(req);
      const who = await resolve(body['user'], true);
      if ('error' in who) return [who.status, { error: who.error }];
      return [200, { user: who.key, removed: await control.unrevoke(who.key, actorOf(body)) }];
    },
    'GET /api/revocations': async () => [200, users.revocations()],
    'GET /api/lockouts': async () => [200, users.lockouts()],
    'POST /api/unlock': async (req) => {
      const body = await readJson(req);
      const who = await resolve(body['user'], true);
      if ('error' in who) return [who.status, { error: who.error }];
      await control.unlock(who.key, actorOf(body));
      return [200, { user: who.key, unlocked: true }];
    },
    'POST /api/second-factor/reset': async (req) => {
      const body = await readJson(req);
      if (!deps.secondFactor) return [404, { error: 'this gateway has no second factor (signin.secondFactor); portcullis second-factor reset -c <config> acts on the state store directly' }];
      const who = await resolve(body['user'], body['force'] === true);
      if ('error' in who) return [who.status, { error: who.error }];
      const e = await resetSecondFactor(deps.secondFactor, who.key, actorOf(body));
      return [200, { user: who.key, totp: e.totp, passkeys: e.passkeys, ...(who.directory ? { directory: who.directory } : {}) }];
    },
    'POST /api/reload': async () => {
      const ok = await control.reload();
      return [ok ? 200 : 422, { reloaded: ok }];
    },
    ...(control.devices ? deviceRoutes(control.devices, resolve, actorOf, readJson) : {}),
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

  const secure = cfg.tls !== undefined;
  // The console checks Host and Origin itself and uses its session, never the bearer token.
  const consoleHandler: ConsoleHandler | undefined = cfg.console ? createConsole(cfg.console, { control, log, sources: deps.console, secure, allowed: () => allowed }) : undefined;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    // Probes answer anyone (a load balancer has no token); they tell nothing but the state.
    if (answerProbe(req, res, control.readiness)) return;
    if (consoleHandler && (req.url === '/console' || req.url?.startsWith('/console/') || req.url?.startsWith('/console?'))) {
      let u: URL;
      try {
        u = new URL(req.url, 'http://admin');
      } catch {
        return send(res, 400, { error: 'request target must be a path' });
      }
      return consoleHandler.handle(req, res, u);
    }
    const refused = allowed ? checkRequest(req, allowed, digest, secure ? 'https' : 'http') : { status: 421 as const, reason: 'not-ready', error: 'not ready' };
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
    if (req.method === 'GET' && url.pathname === '/metrics') {
      if (!control.metrics) return send(res, 404, { error: 'metrics are off (admin.metrics: false)' });
      control.metrics().then(
        ({ contentType, text }) => {
          res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
          res.end(text);
        },
        (e: Error) => send(res, 503, { error: `metrics unavailable: ${e.message}` }),
      );
      return;
    }
    const route = routes[`${req.method} ${url.pathname}`];
    if (!route) return send(res, 404, { error: 'no such endpoint' });
    route(req, url).then(
      ([status, body]) => send(res, status, body),
      (e: Error) => send(res, 400, { error: e.message }),
    );
  };
  const server = cfg.tls ? https.createServer({ cert: readFileSync(cfg.tls.cert), key: readFileSync(cfg.tls.key) }, handler) : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.address, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.address.includes(':') ? `[${a.address}]` : a.address;
  allowed = allowedHosts({ address: a.address, port: a.port }, cfg.allowedHosts);
  log.info({ address: a.address, port: a.port, tokenFile: token.file, tls: secure, console: consoleHandler !== undefined }, 'admin endpoint listening');
  return {
    url: `${secure ? 'https' : 'http'}://${host}:${a.port}`,
    tokenFile: token.file,
    token: token.value,
    tokenCreated: token.created,
    stop: () => {
      consoleHandler?.stop();
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
