// Doctor: runs `portcullis doctor` (src/doctor/run.ts) against the published name and shows its
// HTML report (src/doctor/render.ts) in a sandboxed frame. The report is served on its own URL
// with a CSP of its own: no script at all, its one <style> block allowed by hash, `sandbox`.
import { createHash, randomBytes } from 'node:crypto';
import { renderHtml } from '../../doctor/render.js';
import type { DoctorReport } from '../../doctor/run.js';
import { type Html, html } from './html.js';
import type { Session } from './sessions.js';
import { CSP } from './respond.js';

/** The doctor page frames the report from this origin; nothing else changes in its CSP. */
export const DOCTOR_PAGE_CSP = `${CSP}; frame-src 'self'`;

/** The report's CSP: its own style block by hash, nothing else, sandboxed, framed only by the console. */
export function reportCsp(reportHtml: string): string {
  const style = /<style>([\s\S]*?)<\/style>/.exec(reportHtml)?.[1] ?? '';
  const hash = createHash('sha256').update(style).digest('base64');
  return `default-src 'none'; style-src 'sha256-${hash}'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox`;
}

export class DoctorReports {
  private readonly reports = new Map<string, { html: string; csp: string }>();

  add(report: DoctorReport): string {
    const id = randomBytes(12).toString('base64url');
    const text = renderHtml(report);
    this.reports.set(id, { html: text, csp: reportCsp(text) });
    while (this.reports.size > 10) this.reports.delete(this.reports.keys().next().value!);
    return id;
  }

  get(id: string): { html: string; csp: string } | undefined {
    return this.reports.get(id);
  }
}

export const DOCTOR_PROTOCOLS = ['autodiscover', 'rpc', 'mapi', 'ews', 'eas'] as const;

export function doctorPage(defaults: { url: string | undefined; ca: string | undefined }, s: Session): Html {
  const form =
    s.role === 'operator'
      ? html`<form class="filters" hx-post="/console/doctor/run" hx-target="#doctor-result" hx-swap="innerHTML" hx-indicator="#doctor-busy"><label>Published name<input name="url" required value="${defaults.url ?? ''}" placeholder="mail.contoso.com"></label><label>Mailbox (Autodiscover)<input name="email" placeholder="alice@contoso.com"></label><label>DNS server<input name="resolver" placeholder="system resolver"></label><label>Protocols<input name="protocols" value="autodiscover,mapi,ews"></label><button class="primary" type="submit" data-action="doctor">Run the doctor</button><span id="doctor-busy" class="htmx-indicator muted">running (up to a minute)…</span></form>${defaults.ca ? html`<p class="muted">Trusts the configured CA <code>${defaults.ca}</code> as well as the system's.</p>` : ''}`
      : html`<p class="muted">Running the doctor is for operators (it connects out and logs in).</p>`;
  return html`<h1>Doctor</h1><p>The connectivity analyzer of <code>portcullis doctor</code>, against the published name, from this host.</p>${form}<div id="doctor-result"></div>`;
}

export function doctorResult(id: string, report: DoctorReport): Html {
  return html`<p>Result: <b>${report.status.toUpperCase()}</b> (${report.results.length} checks). <a href="${`/console/doctor/report/${id}`}" target="_blank" rel="noopener">Open the report alone</a></p><iframe class="report" sandbox title="doctor report" src="${`/console/doctor/report/${id}`}"></iframe>`;
}
