// Overview: requests per second, denials per reason, open connections by protocol and lockouts,
// from the gateway's own metrics sampled in memory (metric-sampler.ts). The charts poll.
import { type Html, html } from './html.js';
import { increase, rates, type MetricSampler } from './metric-sampler.js';
import { barChart, lineChart } from './svg-chart.js';

export function overviewCharts(m: MetricSampler | undefined): Html {
  if (!m) return html`<p class="muted">Metrics are off (admin.metrics: false): the Overview charts read them.</p>`;
  const all = m.all;
  const last = all.at(-1);
  const charts = [lineChart('Requests per second', rates(all, (s) => s.requests), '/s'), lineChart('Open client connections', all.map((s) => ({ at: s.at, v: s.connections }))), barChart(`Denials by reason (last ${Math.max(1, Math.round(((last?.at ?? 0) - (all[0]?.at ?? 0)) / 60_000))} min)`, increase(all, (s) => s.denials), 'No denials in this window.'), barChart('Open connections by protocol (pinned to Exchange)', last?.pinnedByProtocol ?? {}, 'No open pinned connections.'), lineChart('Lockouts per minute', rates(all, (s) => s.lockouts).map((p) => ({ at: p.at, v: p.v * 60 })), '/min')];
  return html`<div id="charts" class="grid" hx-get="/console/overview/charts" hx-trigger="every 5s" hx-swap="outerHTML">${charts.map((c) => html`<div class="card">${c}</div>`)}${m.error ? html`<p class="flash bad">metrics unavailable: ${m.error}</p>` : ''}</div>`;
}

export function overviewPage(m: MetricSampler | undefined, counts: { connections: number; revoked: number; locked: number }): Html {
  return html`<h1>Overview</h1><p>${counts.connections} live connection(s) · ${counts.revoked} user(s) revoked · ${counts.locked} locked out · sampled every ${m ? m.intervalMs / 1000 : '-'} s for the last ${m ? m.keepMs / 60_000 : '-'} minutes</p>${overviewCharts(m)}`;
}
