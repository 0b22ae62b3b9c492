// The console under /console/ on the admin listener: sign-in, sessions, CSRF, roles, and the
// routes of each page. The bearer-token JSON API is untouched; console pages use the session only.
import type http from 'node:http';
import type { Logger } from 'pino';
import type { ConsoleConfig } from '../admin-schema.js';
import { type AllowedHosts, hostAllowed, originAllowed } from '../admin-guard.js';
import { type Control, recordAdminAction } from '../control.js';
import { claimOfLogon } from '../../identity/basic.js';
import { events } from '../../events.js';
import { runDoctor } from '../../doctor/run.js';
import { checkSignIn } from './accounts.js';
import type { ConsoleSources } from './console-sources.js';
import { connectionQuery } from './connection-filter.js';
import { type Html, html } from './html.js';
import { flash, page, signInPage } from './layout.js';
import { MetricSampler } from './metric-sampler.js';
import { connectionsPage, connectionsTable } from './page-connections.js';
import { overviewCharts, overviewPage } from './page-overview.js';
import { PAGE_SIZE, CSV_LIMIT, auditCsv, auditFilter, auditPage } from './page-audit.js';
import { policyPage } from './page-policy.js';
import { DOCTOR_PAGE_CSP, DOCTOR_PROTOCOLS, DoctorReports, doctorPage, doctorResult } from './page-doctor.js';
import { ReloadStatus } from './reload-status.js';
import { readForm, redirect, sendHtml, sendText } from './respond.js';
import { COOKIE, type Session, SessionStore, cookieValue, csrfMatches, sessionCookie } from './sessions.js';
import { SignInLimiter } from './sign-in-limiter.js';
import { DEVICE_COOKIE, SignInDevices } from './sign-in-device.js';
import { serveAsset } from './static-assets.js';
import { searchUsers, userFacts } from './user-lookup.js';
import { searchPage, userConnections, userPage } from './page-users.js';
import { userDevices } from './page-devices.js';
import { isDeviceId } from '../../classify/activesync-query.js';
import { revokeMinutesProblem } from '../../policy/revocation-length.js';

export interface ConsoleDeps {
  readonly control: Control;
  readonly log: Logger;
  readonly sources: ConsoleSources | undefined;
  /** The admin listener serves TLS: the cookie is Secure. */
  readonly secure: boolean;
  readonly allowed: () => AllowedHosts | undefined;
}

export interface ConsoleHandler {
  handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void;
  stop(): void;
}

/** The pre-session cookie that carries the sign-in form's CSRF token (double submit). */
const PRE = 'portcullis_console_pre';

type Route = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, s: Session) => Promise<void>;

export function createConsole(cfg: ConsoleConfig, d: ConsoleDeps): ConsoleHandler {
  const { control, sources, log } = d;
  const sessions = new SessionStore({ idleMs: cfg.idleTimeout, absoluteMs: cfg.absoluteTimeout });
  const limiter = new SignInLimiter({ perAccount: cfg.signInLimit.perAccount, perAddress: cfg.signInLimit.perAddress, windowMs: cfg.signInLimit.window });
  const devices = new SignInDevices();
  const sampler = control.metrics ? new MetricSampler(control.metrics) : undefined;
  sampler?.start();
  const reloads = new ReloadStatus();
  const doctorReports = new DoctorReports();
  const actor = (s: Session) => `console:${s.login}`;
  const scheme = d.secure ? 'https' : 'http';

  const signInForm = (res: http.ServerResponse, status: number, o: { error?: string; login?: string } = {}) => {
    const csrf = (globalThis.crypto.randomUUID() + globalThis.crypto.randomUUID()).replace(/-/g, '');
    sendHtml(res, status, signInPage({ ...o, csrf }), { 'Set-Cookie': `${PRE}=${csrf}; Path=/console/; HttpOnly; SameSite=Strict${d.secure ? '; Secure' : ''}` });
  };

  const signIn = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const form = await readForm(req);
    const pre = cookieValue(req.headers.cookie, PRE);
    if (!pre || form.get('_csrf') !== pre) return sendText(res, 403, 'sign-in refused: the form\'s CSRF token is missing or stale; reload the sign-in page\n');
    const login = (form.get('login') ?? '').trim().slice(0, 256);
    const password = form.get('password') ?? '';
    const client = req.socket.remoteAddress ?? '';
    const publish = (outcome: Parameters<typeof events.consoleSignIn.publish>[0]['outcome'], role?: string) => {
      if (events.consoleSignIn.hasSubscribers) events.consoleSignIn.publish({ at: Date.now(), login, clientIp: client, outcome, role });
    };
    const device = devices.verify(cookieValue(req.headers.cookie, DEVICE_COOKIE), login);
    const blocked = limiter.blocked(login, client, device);
    if (blocked) {
      publish(blocked);
      return signInForm(res, 429, { error: 'Too many failed sign-ins: wait and try again later.', login });
    }
    const r = await checkSignIn(cfg, sources?.directory, login, password);
    if (!r.ok) {
      publish(r.outcome);
      // The right password, expired (the directory says so only to the right one): no failure to count.
      if (r.outcome === 'password-expired') return signInForm(res, 401, { error: 'Your directory password has expired: change it, then sign in with the new one.', login });
      limiter.failed(login, client, device);
      return signInForm(res, r.outcome === 'directory-unavailable' ? 503 : 401, { error: r.outcome === 'directory-unavailable' ? 'The directory cannot check the password now.' : 'Wrong login or password.', login });
    }
    limiter.succeeded(login, client, device);
    publish('signed-in', r.role);
    const s = sessions.create(r.login, r.role, r.source);
    redirect(req, res, '/console/', { 'Set-Cookie': [sessionCookie(s.id, d.secure), `${PRE}=; Max-Age=0; Path=/console/`, devices.cookie(login, device, d.secure)] });
  };

  const operatorOnly = (res: http.ServerResponse, s: Session): boolean => {
    if (s.role === 'operator') return false;
    sendHtml(res, 403, flash(false, 'Viewers cannot act: an operator account is needed.'));
    return true;
  };

  const answer = (req: http.IncomingMessage, res: http.ServerResponse, ok: boolean, text: string, status = ok ? 200 : 400) =>
    req.headers['hx-request'] === 'true'
      ? sendHtml(res, status, flash(ok, text), ok ? { 'HX-Trigger': 'refresh' } : {})
      : sendHtml(res, status, html`<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="stylesheet" href="/console/static/console.css"><title>Portcullis</title></head><body><main>${flash(ok, text)}<p><a href="/console/">Back to the console</a></p></main></body></html>`);

  /** A user named in a form: the directory's key, or the name as written when given as DOMAIN\user. */
  const userKey = async (name: string | null): Promise<string | undefined> => {
    const claim = name ? claimOfLogon(name.trim()) : undefined;
    if (!claim) return undefined;
    const r = await control.lookup(claim);
    if (r.status === 'found') return r.entry.key;
    return claim.domain ? `${claim.domain.toUpperCase()}\\${claim.user.toLowerCase()}` : undefined;
  };

  const show = (res: http.ServerResponse, title: string, active: Parameters<typeof page>[1], s: Session, body: Html, csp?: string) => sendHtml(res, 200, page(title, active, s, body), {}, csp);

  const gets: Record<string, Route> = {
    '/console/': async (_req, res, _u, s) => {
      const conns = await control.connections();
      show(res, 'Overview', 'overview', s, overviewPage(sampler, { connections: conns.length, revoked: control.users.revocations().length, locked: control.users.lockouts().filter((l) => l.lockedUntil).length }));
    },
    '/console/overview/charts': async (_req, res) => sendHtml(res, 200, overviewCharts(sampler)),
    '/console/connections': async (_req, res, u, s) => show(res, 'Connections', 'connections', s, connectionsPage(await control.connections(), connectionQuery(u.searchParams), s)),
    '/console/connections/table': async (_req, res, u, s) => sendHtml(res, 200, connectionsTable(await control.connections(), connectionQuery(u.searchParams), s)),
    '/console/users': async (_req, res, u, s) => {
      const q = (u.searchParams.get('q') ?? '').trim().slice(0, 200);
      const r = q ? await searchUsers(q, control, sources) : undefined;
      show(res, 'Users', 'users', s, searchPage(q, r?.hits, r?.note));
    },
    '/console/users/view': async (_req, res, u, s) => {
      const f = await userFacts(u.searchParams.get('user') ?? '', control, sources);
      if ('error' in f) return show(res, 'Users', 'users', s, html`${searchPage('', undefined, undefined)}<p class="flash bad">${f.error}</p>`);
      const devices = control.devices ? await control.devices.list() : undefined;
      show(res, f.entry.key, 'users', s, userPage(f, userConnections(f.entry.key, await control.connections()), s, userDevices(f.entry.key, devices, s.role === 'operator')));
    },
    '/console/users/live': async (_req, res, u) => sendHtml(res, 200, userConnections(u.searchParams.get('user') ?? '', await control.connections())),
    '/console/audit': async (_req, res, u, s) => {
      const store = sources?.audit?.();
      let error: string | undefined;
      let records;
      try {
        const { filter } = auditFilter(u.searchParams);
        records = store ? await store.query(filter, { order: 'desc', limit: PAGE_SIZE }) : undefined;
      } catch (e) {
        error = (e as Error).message.replace(/--/g, '');
      }
      show(res, 'Audit', 'audit', s, auditPage(u.searchParams, records, error));
    },
    '/console/audit.csv': async (_req, res, u) => {
      const store = sources?.audit?.();
      if (!store) return sendText(res, 404, 'the audit trail is off\n');
      let filter;
      try {
        filter = auditFilter(u.searchParams).filter;
      } catch (e) {
        return sendText(res, 400, `${(e as Error).message.replace(/--/g, '')}\n`);
      }
      const text = auditCsv(await store.query(filter, { order: 'desc', limit: CSV_LIMIT }));
      res.writeHead(200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': 'attachment; filename="portcullis-audit.csv"', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      res.end(text);
    },
    '/console/policy': async (_req, res, _u, s) => show(res, 'Policy', 'policy', s, policyPage(sources?.config?.().policy, reloads.last, sources?.configFile, s)),
    '/console/doctor': async (_req, res, _u, s) => {
      const c = sources?.config?.();
      show(res, 'Doctor', 'doctor', s, doctorPage({ url: c?.publishedName, ca: c?.ca }, s), DOCTOR_PAGE_CSP);
    },
  };

  /** Approve, block, remove an ActiveSync device (operators; through the Control, so workers and instances hear it). */
  const devicePosts = (): Record<string, (req: http.IncomingMessage, res: http.ServerResponse, form: URLSearchParams, s: Session) => Promise<void>> => {
    const act = (name: 'approve' | 'block' | 'remove') => async (req: http.IncomingMessage, res: http.ServerResponse, f: URLSearchParams, s: Session) => {
      if (operatorOnly(res, s)) return;
      const devices = control.devices;
      if (!devices) return answer(req, res, false, 'Device approvals are not available here.', 501);
      const key = await userKey(f.get('user'));
      const id = f.get('device') ?? '';
      if (!key || !isDeviceId(id)) return answer(req, res, false, 'Give the user as DOMAIN\\user and the DeviceId as the device list shows it.');
      if (name === 'remove') {
        const r = await devices.remove(key, id, actor(s));
        return answer(req, res, r.removed !== undefined, r.removed ? `Device ${id} of ${key} removed: ${r.closed} connection(s) closed.` : `${key} has no device ${id}.`);
      }
      const r = await devices.set(key, id, undefined, name === 'approve' ? 'approved' : 'blocked', actor(s));
      answer(req, res, true, name === 'approve' ? `Device ${r.record.id} of ${key} approved.` : `Device ${r.record.id} of ${key} blocked: ${r.closed} connection(s) closed.`);
    };
    return { '/console/devices/approve': act('approve'), '/console/devices/block': act('block'), '/console/devices/remove': act('remove') };
  };

  const posts: Record<string, (req: http.IncomingMessage, res: http.ServerResponse, form: URLSearchParams, s: Session) => Promise<void>> = {
    '/console/sign-out': async (req, res, _f, s) => {
      sessions.destroy(s.id);
      redirect(req, res, '/console/sign-in', { 'Set-Cookie': sessionCookie(undefined, d.secure) });
    },
    '/console/connections/close': async (req, res, f, s) => {
      if (operatorOnly(res, s)) return;
      if (!control.closeConnection) return answer(req, res, false, 'Closing one connection is not available here; revoke the user instead.', 501);
      const id = Number(f.get('id'));
      const w = f.get('worker');
      const ok = Number.isInteger(id) && (await control.closeConnection(id, w ? Number(w) : undefined, actor(s)));
      answer(req, res, ok, ok ? `Connection ${id} closed.` : `Connection ${f.get('id')} is gone already.`);
    },
    '/console/users/revoke': async (req, res, f, s) => {
      if (operatorOnly(res, s)) return;
      const key = await userKey(f.get('user'));
      const reason = (f.get('reason') ?? '').trim().slice(0, 500);
      if (!key) return answer(req, res, false, 'Give the user as DOMAIN\\user or user@domain.');
      if (!reason) return answer(req, res, false, 'A revocation needs a reason (it goes on the record).');
      const m = f.get('minutes')?.trim();
      // Plain decimal minutes, as the form's number field sends them (Number() would take 0x10 or 1e-9).
      const minutes = m ? (/^\d+(\.\d+)?$/.test(m) ? Number(m) : Number.NaN) : undefined;
      const mProblem = minutes === undefined ? undefined : revokeMinutesProblem(minutes);
      if (mProblem) return answer(req, res, false, `${mProblem[0]!.toUpperCase()}${mProblem.slice(1)}.`);
      const r = await control.revoke(key, reason, minutes ? minutes * 60_000 : undefined, actor(s));
      answer(req, res, true, `${key} revoked${minutes ? ` for ${minutes} min` : ''}: ${r.closed} connection(s) closed.`);
    },
    '/console/users/unrevoke': async (req, res, f, s) => {
      if (operatorOnly(res, s)) return;
      const key = await userKey(f.get('user'));
      if (!key) return answer(req, res, false, 'Give the user as DOMAIN\\user or user@domain.');
      const existed = await control.unrevoke(key, actor(s));
      answer(req, res, true, existed ? `Revocation of ${key} lifted.` : `${key} was not revoked.`);
    },
    '/console/users/unlock': async (req, res, f, s) => {
      if (operatorOnly(res, s)) return;
      const key = await userKey(f.get('user'));
      if (!key) return answer(req, res, false, 'Give the user as DOMAIN\\user or user@domain.');
      await control.unlock(key, actor(s));
      answer(req, res, true, `${key} unlocked.`);
    },
    ...devicePosts(),
    '/console/policy/reload': async (req, res, _f, s) => {
      if (operatorOnly(res, s)) return;
      const ok = await control.reload();
      recordAdminAction(actor(s), 'reload', undefined, ok ? 'reloaded' : 'refused: the running configuration stays');
      answer(req, res, ok, ok ? 'Configuration reloaded.' : `Reload refused; the running configuration stays. ${reloads.last?.problems.join('; ') ?? ''}`, ok ? 200 : 422);
    },
    '/console/doctor/run': async (req, res, f, s) => {
      if (operatorOnly(res, s)) return;
      const raw = (f.get('url') ?? '').trim();
      let url: URL;
      try {
        url = new URL(/^https:\/\//i.test(raw) ? raw : `https://${raw}`);
        if (url.protocol !== 'https:' || !url.hostname) throw new Error();
      } catch {
        return answer(req, res, false, 'Give the published name, e.g. mail.contoso.com or https://mail.contoso.com:8443.');
      }
      const protocols = (f.get('protocols') ?? '').split(',').map((p) => p.trim().toLowerCase()).filter((p) => (DOCTOR_PROTOCOLS as readonly string[]).includes(p));
      const email = f.get('email')?.trim();
      const resolver = f.get('resolver')?.trim();
      const ca = sources?.config?.().ca;
      const report = await runDoctor({ url: url.href.replace(/\/$/, ''), protocols: protocols.length ? protocols : ['autodiscover', 'mapi', 'ews'], timeoutMs: 10_000, idleHoldMs: 5_000, ...(email ? { email } : {}), ...(resolver ? { resolver } : {}), ...(ca ? { ca } : {}) });
      sendHtml(res, 200, doctorResult(doctorReports.add(report), report));
    },
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    const allowed = d.allowed();
    const host = req.headers.host;
    if (!allowed || !hostAllowed(host, allowed)) return sendText(res, 421, 'this console is not served under that Host name\n');
    if (req.method === 'POST' && !originAllowed(req.headers.origin, `${host}`, scheme)) return sendText(res, 403, 'cross-origin requests to the console are refused\n');
    const path = url.pathname;
    if (path === '/console') return redirect(req, res, '/console/');
    if (req.method === 'GET' && path.startsWith('/console/static/')) {
      if (!serveAsset(path.slice('/console/static/'.length), req, res)) sendText(res, 404, 'no such file\n');
      return;
    }
    if (path === '/console/sign-in') {
      if (req.method === 'POST') return signIn(req, res);
      if (req.method === 'GET') return signInForm(res, 200);
    }
    if (path.startsWith('/console/doctor/report/') && req.method === 'GET') {
      if (!sessions.get(cookieValue(req.headers.cookie, COOKIE))) return sendText(res, 401, 'sign in first\n');
      const r = doctorReports.get(path.slice('/console/doctor/report/'.length));
      if (!r) return sendText(res, 404, 'no such report (only the last 10 are kept)\n');
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': r.csp, 'Content-Length': Buffer.byteLength(r.html), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      res.end(r.html);
      return;
    }
    const s = sessions.get(cookieValue(req.headers.cookie, COOKIE));
    if (!s) {
      if (req.method === 'POST') return sendText(res, 401, 'sign in first\n');
      return redirect(req, res, '/console/sign-in', { 'Set-Cookie': sessionCookie(undefined, d.secure) });
    }
    if (req.method === 'GET') {
      const g = gets[path];
      if (!g) return sendHtml(res, 404, page('Not found', 'overview', s, html`<h1>No such page</h1>`));
      return g(req, res, url, s);
    }
    if (req.method === 'POST') {
      const p = posts[path];
      if (!p) return sendText(res, 404, 'no such action\n');
      const form = await readForm(req);
      const token = (req.headers['x-csrf-token'] as string | undefined) ?? form.get('_csrf') ?? undefined;
      if (!csrfMatches(s, token)) {
        log.warn({ login: s.login, client: req.socket.remoteAddress, path }, 'console POST without a valid CSRF token refused');
        return sendText(res, 403, 'refused: missing or wrong CSRF token\n');
      }
      return p(req, res, form, s);
    }
    sendText(res, 405, 'method not allowed\n', { Allow: 'GET, POST' });
  };

  return {
    handle(req, res, url) {
      handle(req, res, url).catch((e: Error) => {
        log.error({ err: e.message, path: url.pathname }, 'console request failed');
        if (!res.headersSent) sendText(res, 500, 'the console could not answer this request (see the gateway log)\n');
        else res.destroy();
      });
    },
    stop() {
      sampler?.stop();
      reloads.stop();
    },
  };
}

