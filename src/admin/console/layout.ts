// The page shell: head (htmx and console.css from /console/static/, htmx told not to inject
// styles or evaluate anything), navigation, who is signed in, and the CSRF token that htmx sends
// on every request (hx-headers) and forms carry as _csrf.
import { type Html, html } from './html.js';
import type { Session } from './sessions.js';

export const PAGES = [
  ['overview', 'Overview', '/console/'],
  ['connections', 'Connections', '/console/connections'],
  ['users', 'Users', '/console/users'],
  ['audit', 'Audit', '/console/audit'],
  ['policy', 'Policy', '/console/policy'],
  ['doctor', 'Doctor', '/console/doctor'],
] as const;
export type PageName = (typeof PAGES)[number][0];

const HTMX_CONFIG = JSON.stringify({ includeIndicatorStyles: false, allowEval: false, allowScriptTags: false, historyCacheSize: 0, selfRequestsOnly: true });

function head(title: string): Html {
  return html`<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="htmx-config" content="${HTMX_CONFIG}"><title>${title} · Portcullis</title><link rel="stylesheet" href="/console/static/console.css"><script src="/console/static/htmx.min.js"></script></head>`;
}

/** The hidden form field every POST form carries. */
export function csrfField(s: Session): Html {
  return html`<input type="hidden" name="_csrf" value="${s.csrf}">`;
}

export function page(title: string, active: PageName, s: Session, body: Html): Html {
  const nav = PAGES.map(([name, label, href]) => html`<a href="${href}" class="${name === active ? 'here' : ''}">${label}</a>`);
  return html`<!doctype html><html lang="en">${head(title)}<body hx-headers="${JSON.stringify({ 'X-CSRF-Token': s.csrf })}"><header><span class="brand">Portcullis</span><nav>${nav}</nav><span class="who" data-role="${s.role}">${s.login} (${s.role})</span><form method="post" action="/console/sign-out">${csrfField(s)}<button type="submit">Sign out</button></form></header><main><div id="flash" class="flash"></div>${body}</main></body></html>`;
}

export function signInPage(o: { error?: string; login?: string; csrf: string }): Html {
  return html`<!doctype html><html lang="en">${head('Sign in')}<body><main><form class="card signin" method="post" action="/console/sign-in"><h1>Portcullis console</h1>${o.error ? html`<p class="flash bad" role="alert">${o.error}</p>` : ''}<input type="hidden" name="_csrf" value="${o.csrf}"><label for="login">Login</label><input id="login" name="login" autocomplete="username" required value="${o.login ?? ''}" autofocus><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required><button class="primary" type="submit">Sign in</button></form></main></body></html>`;
}

/** A result line for the #flash box (htmx) or a small page (a form posted without htmx). */
export function flash(ok: boolean, text: string): Html {
  return html`<div id="flash" class="flash ${ok ? 'ok' : 'bad'}" role="status">${text}</div>`;
}

export const fmtBytes = (n: number | undefined): string => (n === undefined ? '' : n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);

export function fmtAgo(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
