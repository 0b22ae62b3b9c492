import { CATALOG } from './catalog.js';
import type { DoctorReport } from './run.js';
import type { CheckResult, Finding, Status } from './types.js';

const MARK: Record<Status, string> = { pass: '✔', warn: '⚠', fail: '✖', skip: '–', info: 'ℹ' };

export function checkLine(r: CheckResult, color: (s: Status, t: string) => string = (_s, t) => t): string {
  return `${color(r.status, MARK[r.status])} ${r.group}: ${r.title} (${r.ms} ms)`;
}

/** Findings of one check grouped by id, details in the order seen: a cause is told once, not once per port. */
export function groupFindings(findings: readonly Finding[]): Array<{ id: string; details: string[] }> {
  const out: Array<{ id: string; details: string[] }> = [];
  for (const f of findings) {
    const g = out.find((x) => x.id === f.id);
    if (g) {
      if (!g.details.includes(f.detail)) g.details.push(f.detail);
    } else out.push({ id: f.id, details: [f.detail] });
  }
  return out;
}

/** The RCA-like tree: groups, checks, evidence, and each finding's cause and fix (once per report). */
export function renderText(report: DoctorReport, color: (s: Status, t: string) => string = (_s, t) => t): string {
  const lines = [`Portcullis doctor: ${report.url}  (${report.startedAt})`, ''];
  const explained = new Set<string>();
  let group = '';
  for (const r of report.results) {
    if (r.group !== group) {
      group = r.group;
      lines.push(group);
    }
    lines.push(`  ${color(r.status, MARK[r.status])} ${r.title}  (${r.ms} ms)`);
    for (const e of r.evidence) lines.push(`      ${e}`);
    for (const g of groupFindings(r.findings)) {
      const c = CATALOG[g.id];
      lines.push(`      ${color(c?.severity === 'warn' ? 'warn' : c?.severity === 'info' ? 'info' : 'fail', `[${g.id}]`)} ${c?.title ?? g.id}: ${g.details.join('; ')}`);
      if (c && !explained.has(g.id)) lines.push(`        cause: ${c.cause}`, `        fix:   ${c.fix}`);
      else if (c) lines.push('        (cause and fix: see above)');
      explained.add(g.id);
    }
  }
  const n = (s: Status) => report.results.filter((r) => r.status === s).length;
  lines.push('', `${n('fail')} failed, ${n('warn')} warnings, ${n('pass')} passed, ${n('skip')} skipped: ${report.status.toUpperCase()} (exit ${report.exitCode})`);
  return lines.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A self-contained HTML report an admin can attach to a ticket. */
export function renderHtml(report: DoctorReport): string {
  const rows = report.results
    .map((r) => {
      const findings = groupFindings(r.findings)
        .map((g) => {
          const c = CATALOG[g.id];
          return `<div class="finding"><b>${esc(g.id)}</b> ${esc(c?.title ?? '')}: ${esc(g.details.join('; '))}${c ? `<br><i>Cause:</i> ${esc(c.cause)}<br><i>Fix:</i> ${esc(c.fix)}` : ''}</div>`;
        })
        .join('');
      return `<tr class="${r.status}"><td>${MARK[r.status]}</td><td>${esc(r.group)}</td><td>${esc(r.title)}<pre>${esc(r.evidence.join('\n'))}</pre>${findings}</td><td>${r.ms} ms</td></tr>`;
    })
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Portcullis doctor: ${esc(report.url)}</title><style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}td{border-bottom:1px solid #ddd;padding:.4em;vertical-align:top}
pre{margin:.3em 0;font-size:12px;white-space:pre-wrap;color:#555}.fail td:first-child{color:#b00}.warn td:first-child{color:#b80}.pass td:first-child{color:#070}
.finding{background:#fff4f4;border-left:3px solid #b00;padding:.4em;margin:.3em 0}.warn .finding{background:#fffbe8;border-color:#b80}
</style></head><body><h1>Portcullis doctor</h1><p>${esc(report.url)}, ${esc(report.startedAt)}: <b>${report.status.toUpperCase()}</b> (exit ${report.exitCode})</p>
<table>${rows}</table></body></html>\n`;
}
