// Audit: the trail with the filters of `portcullis audit` (the same argument checks), newest
// first, paged by record id, and CSV export through audit-format.ts.
import type { StoredRecord } from '../../audit/audit-record.js';
import { AUDIT_EVENTS } from '../../audit/audit-record.js';
import { csvHeader, csvRow, detail } from '../../audit/audit-format.js';
import { parseAuditArgs } from '../../audit/audit-query-args.js';
import type { AuditFilter } from '../../audit/record-columns.js';
import { PROTOCOLS } from '../../vocabulary/protocols.js';
import { type Html, html } from './html.js';

export const PAGE_SIZE = 50;
export const CSV_LIMIT = 100_000;
const FIELDS = ['user', 'ip', 'device', 'protocol', 'decision', 'reason', 'event', 'since', 'until'] as const;

/** The filter from the query string (empty fields ignored); throws a one-line Error on a bad one. */
export function auditFilter(p: URLSearchParams): { filter: AuditFilter; before: number | undefined } {
  const args: Record<string, string> = {};
  for (const f of FIELDS) {
    const v = p.get(f)?.trim();
    if (v) args[f] = v;
  }
  const { filter } = parseAuditArgs(args);
  const b = p.get('before');
  const before = b && /^\d+$/.test(b) ? Number(b) : undefined;
  return { filter: { ...filter, ...(before !== undefined ? { beforeId: before } : {}) }, before };
}

const select = (name: string, values: readonly string[], cur: string | null) => html`<select name="${name}"><option value="">any</option>${values.map((v) => html`<option value="${v}" ${v === cur ? html`selected` : ''}>${v}</option>`)}</select>`;

export function auditPage(p: URLSearchParams, records: readonly StoredRecord[] | undefined, error: string | undefined): Html {
  const keep = new URLSearchParams();
  for (const f of FIELDS) if (p.get(f)) keep.set(f, p.get(f)!);
  const v = (n: string) => p.get(n) ?? '';
  const form = html`<form class="filters" method="get" action="/console/audit"><label>User<input name="user" value="${v('user')}"></label><label>Address<input name="ip" value="${v('ip')}"></label><label>Device<input name="device" value="${v('device')}" placeholder="ActiveSync DeviceId"></label><label>Protocol${select('protocol', PROTOCOLS, p.get('protocol'))}</label><label>Decision${select('decision', ['allow', 'deny'], p.get('decision'))}</label><label>Reason<input name="reason" value="${v('reason')}" placeholder="not-in-group"></label><label>Event${select('event', AUDIT_EVENTS, p.get('event'))}</label><label>Since<input name="since" value="${v('since')}" placeholder="2h or 2026-12-01T08:00"></label><label>Until<input name="until" value="${v('until')}"></label><button type="submit">Filter</button><a href="${`/console/audit.csv?${keep}`}" download>Export CSV</a></form>`;
  if (error) return html`<h1>Audit</h1>${form}<p class="flash bad">${error}</p>`;
  if (!records) return html`<h1>Audit</h1><p class="muted">The audit trail is off (audit.store: off) or not readable from this process.</p>`;
  const rows = records.map((r) => html`<tr><td class="num">${r.id}</td><td>${new Date(r.ts).toISOString().replace('T', ' ').replace('Z', '')}</td><td>${r.event}</td><td class="${r.decision ?? ''}">${r.decision ?? ''}</td><td>${r.user ?? ''}</td><td class="mono">${r.clientIp ?? ''}</td><td>${r.zone ?? ''}</td><td>${r.protocol ?? ''}</td><td>${r.status ?? ''}</td><td>${detail(r)}</td></tr>`);
  const older = records.length === PAGE_SIZE ? new URLSearchParams([...keep, ['before', String(records.at(-1)!.id)]]) : undefined;
  return html`<h1>Audit</h1>${form}<table><thead><tr><th>Id</th><th>Time (UTC)</th><th>Event</th><th>Decision</th><th>User</th><th>Client</th><th>Zone</th><th>Protocol</th><th>Status</th><th>Why</th></tr></thead><tbody>${rows}</tbody></table><div class="pager">${p.get('before') ? html`<a href="${`/console/audit?${keep}`}">Newest</a>` : ''}${older ? html`<a href="${`/console/audit?${older}`}">Older →</a>` : ''}</div>`;
}

export function auditCsv(records: readonly StoredRecord[]): string {
  return [csvHeader(), ...records.map(csvRow)].join('\r\n') + '\r\n';
}
