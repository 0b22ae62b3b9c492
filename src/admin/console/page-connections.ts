// Connections: every live client connection, polled by htmx every 2 s; operators get "close" per
// connection and "revoke" per user (with a reason), both confirmed.
import type { ConnectionView } from '../control.js';
import { type ConnectionQuery, filterConnections } from './connection-filter.js';
import { type Html, html } from './html.js';
import { fmtAgo, fmtBytes } from './layout.js';
import type { Session } from './sessions.js';
import { PROTOCOLS } from '../../vocabulary/protocols.js';

/** Rows shown at most (the count says how many matched). */
export const MAX_ROWS = 500;

function row(c: ConnectionView, s: Session, now: number): Html {
  const op = s.role === 'operator';
  const cur = c.current ? html`<code>${c.current.method} ${c.current.path}</code>${c.current.command ? html` <span class="badge">${c.current.command}</span>` : ''} <span class="muted">${fmtAgo(c.current.startedAt, now)}</span>` : html`<span class="muted">idle</span>`;
  const actions = op
    ? html`<form class="inline" hx-post="/console/connections/close" hx-target="#flash" hx-swap="outerHTML" hx-confirm="${`Close connection ${c.id}${c.user ? ` of ${c.user}` : ''}?`}"><input type="hidden" name="id" value="${c.id}">${c.worker !== undefined ? html`<input type="hidden" name="worker" value="${c.worker}">` : ''}<button type="submit" data-action="close">Close</button></form>${
        c.user && c.user !== 'kerberos'
          ? html` <details class="act"><summary>Revoke…</summary><form class="inline" hx-post="/console/users/revoke" hx-target="#flash" hx-swap="outerHTML" hx-confirm="${`Revoke ${c.user} and close all their connections?`}"><input type="hidden" name="user" value="${c.user}"><input name="reason" required placeholder="reason" aria-label="reason"><button class="danger" type="submit" data-action="revoke">Revoke ${c.user}</button></form></details>`
          : ''
      }`
    : '';
  return html`<tr data-user="${c.user ?? ''}" data-id="${c.id}"><td>${c.user ? html`<a href="${`/console/users/view?user=${encodeURIComponent(c.user)}`}">${c.user}</a>` : html`<span class="muted">anonymous</span>`}${c.proven ? '' : html` <span class="badge warn">claimed</span>`}</td><td>${c.protocol ?? ''}</td><td>${c.zone}</td><td class="mono">${c.client}</td><td>${c.device ? html`<span class="mono">${c.device.id}</span> ${c.device.type ?? ''}` : ''}</td><td>${fmtAgo(c.openedAt, now)}</td><td class="num">${fmtBytes(c.bytesIn)}</td><td class="num">${fmtBytes(c.bytesOut)}</td><td class="num">${c.requests}</td><td>${cur}</td><td>${actions}</td></tr>`;
}

function sortLink(q: ConnectionQuery, key: string, label: string): Html {
  const p = new URLSearchParams({ q: q.q, protocol: q.protocol, sort: key, dir: q.sort === key && q.desc ? 'asc' : 'desc' });
  return html`<a href="${`/console/connections?${p}`}">${label}${q.sort === key ? (q.desc ? ' ↓' : ' ↑') : ''}</a>`;
}

/** The table fragment: it polls itself with the same query. */
export function connectionsTable(all: readonly ConnectionView[], q: ConnectionQuery, s: Session, now = Date.now()): Html {
  const shown = filterConnections(all, q);
  const p = new URLSearchParams({ q: q.q, protocol: q.protocol, sort: q.sort, dir: q.desc ? 'desc' : 'asc' });
  const rows = shown.slice(0, MAX_ROWS).map((c) => row(c, s, now));
  return html`<div id="conn-table" hx-get="${`/console/connections/table?${p}`}" hx-trigger="every 2s, refresh from:body" hx-swap="outerHTML"><p class="muted">${shown.length} of ${all.length} connection(s)${shown.length > MAX_ROWS ? ` (first ${MAX_ROWS} shown: narrow the filter)` : ''}</p><table><thead><tr><th>${sortLink(q, 'user', 'User')}</th><th>${sortLink(q, 'protocol', 'Protocol')}</th><th>Zone</th><th>${sortLink(q, 'client', 'Client')}</th><th>Device</th><th>${sortLink(q, 'opened', 'Since')}</th><th>${sortLink(q, 'bytes', 'In')}</th><th>Out</th><th>${sortLink(q, 'requests', 'Req')}</th><th>Current request</th><th></th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

export function connectionsPage(all: readonly ConnectionView[], q: ConnectionQuery, s: Session): Html {
  const protocols = PROTOCOLS.map((p) => html`<option value="${p}" ${p === q.protocol ? html`selected` : ''}>${p}</option>`);
  return html`<h1>Live connections</h1><form class="filters" method="get" action="/console/connections" hx-get="/console/connections/table" hx-target="#conn-table" hx-swap="outerHTML" hx-trigger="input changed delay:300ms, change, submit"><label>Search<input name="q" value="${q.q}" placeholder="user, address, device, path"></label><label>Protocol<select name="protocol"><option value="">any</option>${protocols}</select></label><input type="hidden" name="sort" value="${q.sort}"><input type="hidden" name="dir" value="${q.desc ? 'desc' : 'asc'}"><button type="submit">Filter</button></form>${connectionsTable(all, q, s)}`;
}
