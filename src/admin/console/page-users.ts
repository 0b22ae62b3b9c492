// Users: search the directory, then one user's groups (nested chain), effective access (protocol ×
// zone, decided by the policy's own evaluate, as `policy explain` does), live connections, recent
// audit records, lock state and revocation, with unlock/revoke/unrevoke for operators.
import type { StoredRecord } from '../../audit/audit-record.js';
import { detail } from '../../audit/audit-format.js';
import type { DirectoryEntry } from '../../directory/provider.js';
import type { Decision } from '../../policy/decision.js';
import type { Revocation, Lockout } from '../../policy/user-states.js';
import type { ConnectionView } from '../control.js';
import { type Html, html } from './html.js';
import { fmtAgo, fmtBytes } from './layout.js';
import type { Session } from './sessions.js';

export interface SearchHit {
  readonly key: string;
  readonly name: string | undefined;
  readonly mail: string | undefined;
}

export function searchPage(q: string, hits: readonly SearchHit[] | undefined, note: string | undefined): Html {
  const list = hits
    ? hits.length
      ? html`<table><thead><tr><th>User</th><th>Name</th><th>Mail</th></tr></thead><tbody>${hits.map((h) => html`<tr><td><a href="${`/console/users/view?user=${encodeURIComponent(h.key)}`}">${h.key}</a></td><td>${h.name ?? ''}</td><td>${h.mail ?? ''}</td></tr>`)}</tbody></table>`
      : html`<p class="muted">No user matches “${q}”.</p>`
    : '';
  return html`<h1>Users</h1><form class="filters" method="get" action="/console/users"><label>Search<input name="q" value="${q}" placeholder="erin, LAB\\erin, erin@lab.example" autofocus></label><button type="submit">Search</button></form>${note ? html`<p class="muted">${note}</p>` : ''}${list}`;
}

export interface UserFacts {
  readonly entry: DirectoryEntry;
  readonly chains: readonly (readonly string[])[] | undefined;
  readonly matrix: ReadonlyArray<{ protocol: string; cells: ReadonlyArray<{ zone: string; decision: Decision }> }>;
  readonly zones: readonly string[];
  readonly revocation: Revocation | undefined;
  readonly lockout: Lockout | undefined;
  readonly audit: readonly StoredRecord[] | undefined;
}

function cell(d: Decision): Html {
  return html`<td class="${d.allow ? 'allow' : 'deny'}" data-allow="${String(d.allow)}">${d.allow ? 'allowed' : 'denied'}<br><span class="mono">${d.reasons.join(', ')}</span>${d.rule ? html`<br><span class="muted">rule ${d.rule}</span>` : ''}</td>`;
}

export function userConnections(key: string, all: readonly ConnectionView[], now = Date.now()): Html {
  const mine = all.filter((c) => c.user?.toLowerCase() === key.toLowerCase());
  return html`<div id="user-conns" hx-get="${`/console/users/live?user=${encodeURIComponent(key)}`}" hx-trigger="every 3s" hx-swap="outerHTML">${
    mine.length
      ? html`<table><thead><tr><th>Id</th><th>Protocol</th><th>Client</th><th>Since</th><th>In</th><th>Out</th><th>Current</th></tr></thead><tbody>${mine.map((c) => html`<tr><td>${c.id}</td><td>${c.protocol ?? ''}</td><td class="mono">${c.client}</td><td>${fmtAgo(c.openedAt, now)}</td><td class="num">${fmtBytes(c.bytesIn)}</td><td class="num">${fmtBytes(c.bytesOut)}</td><td>${c.current ? html`<code>${c.current.method} ${c.current.path}</code> ${c.current.command ?? ''}` : 'idle'}</td></tr>`)}</tbody></table>`
      : html`<p class="muted">No live connection.</p>`
  }</div>`;
}

export function userPage(f: UserFacts, live: Html, s: Session, devices: Html = html``): Html {
  const e = f.entry;
  const op = s.role === 'operator';
  const groups = f.chains
    ? html`<ul class="chain">${f.chains.map((c) => html`<li>${c.join(' → ')}</li>`)}</ul>`
    : html`<p>${e.groups.join(', ') || 'none'} <span class="muted">(nested membership included; the chain is shown for a file directory)</span></p>`;
  const matrix = html`<table class="matrix"><thead><tr><th>Protocol</th>${f.zones.map((z) => html`<th>${z}</th>`)}</tr></thead><tbody>${f.matrix.map((r) => html`<tr data-protocol="${r.protocol}"><th>${r.protocol}</th>${r.cells.map((c) => cell(c.decision))}</tr>`)}</tbody></table>`;
  const rev = f.revocation
    ? html`<p><span class="badge bad">revoked</span> since ${new Date(f.revocation.at).toISOString()}${f.revocation.until ? ` until ${new Date(f.revocation.until).toISOString()}` : ' (no expiry)'}: “${f.revocation.reason}”</p>${op ? html`<form class="inline" hx-post="/console/users/unrevoke" hx-target="#flash" hx-swap="outerHTML" hx-confirm="${`Lift the revocation of ${e.key}?`}"><input type="hidden" name="user" value="${e.key}"><button type="submit" data-action="unrevoke">Unrevoke</button></form>` : ''}`
    : html`<p><span class="badge ok">not revoked</span></p>${op ? html`<form class="inline" hx-post="/console/users/revoke" hx-target="#flash" hx-swap="outerHTML" hx-confirm="${`Revoke ${e.key} and close all their connections?`}"><input type="hidden" name="user" value="${e.key}"><input name="reason" required placeholder="reason" aria-label="reason"><input name="minutes" type="number" min="1" placeholder="minutes (none: until lifted)" aria-label="minutes"><button class="danger" type="submit" data-action="revoke">Revoke</button></form>` : ''}`;
  const lock = f.lockout?.lockedUntil
    ? html`<p><span class="badge bad">locked out</span> until ${new Date(f.lockout.lockedUntil).toISOString()} (${f.lockout.failures} recent failures)</p>${op ? html`<form class="inline" hx-post="/console/users/unlock" hx-target="#flash" hx-swap="outerHTML" hx-confirm="${`Unlock ${e.key}?`}"><input type="hidden" name="user" value="${e.key}"><button type="submit" data-action="unlock">Unlock</button></form>` : ''}`
    : html`<p><span class="badge ok">not locked out</span>${f.lockout ? ` (${f.lockout.failures} recent failed logins)` : ''}</p>`;
  const audit = f.audit
    ? f.audit.length
      ? html`<table><thead><tr><th>Time</th><th>Event</th><th>Decision</th><th>Client</th><th>Protocol</th><th>Why</th></tr></thead><tbody>${f.audit.map((r) => html`<tr><td>${new Date(r.ts).toISOString()}</td><td>${r.event}</td><td class="${r.decision ?? ''}">${r.decision ?? ''}</td><td class="mono">${r.clientIp ?? ''}</td><td>${r.protocol ?? ''}</td><td>${detail(r)}</td></tr>`)}</tbody></table><p><a href="${`/console/audit?user=${encodeURIComponent(e.key)}`}">All records of ${e.key}</a></p>`
      : html`<p class="muted">No audit records.</p>`
    : html`<p class="muted">The audit trail is off or not readable here.</p>`;
  return html`<h1>${e.key}</h1><p class="muted">${e.upn} · ${e.mail}${e.enabled ? '' : html` · <span class="badge bad">disabled</span>`}</p><div class="grid"><div class="card"><h2>Groups</h2>${groups}</div><div class="card"><h2>Revocation</h2>${rev}<h2>Smart lockout</h2>${lock}</div></div><div class="card"><h2>Effective access</h2><p class="muted">What the policy decides for this user now (the same evaluation as <code>portcullis policy explain</code>; external from 203.0.113.1, internal from 10.0.0.1).</p>${matrix}</div><div class="card"><h2>Live connections</h2>${live}</div><div class="card"><h2>ActiveSync devices</h2>${devices}</div><div class="card"><h2>Recent audit records</h2>${audit}</div>`;
}
