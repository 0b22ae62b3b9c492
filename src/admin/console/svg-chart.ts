// Small charts as server-rendered SVG: a line over time and horizontal bars. Numbers in,
// markup out through the escaping template; colours come from console.css classes.
import { type Html, html } from './html.js';

const W = 320;
const H = 90;
const PAD = 4;

const fmt = (v: number) => (v >= 100 ? Math.round(v).toString() : (v >= 10 ? v.toFixed(1) : v.toFixed(2)).replace(/\.0+$|(\.\d*?)0+$/, '$1') || '0');

/** A line chart of `points` (time, value) with the latest and largest value in the caption. */
export function lineChart(title: string, points: ReadonlyArray<{ at: number; v: number }>, unit = ''): Html {
  if (points.length < 2) return html`<figure class="chart"><figcaption>${title}: collecting samples…</figcaption><svg class="line" viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}"></svg></figure>`;
  const t0 = points[0]!.at;
  const t1 = points.at(-1)!.at;
  const max = Math.max(...points.map((p) => p.v), 1e-9);
  const x = (at: number) => PAD + ((at - t0) / Math.max(1, t1 - t0)) * (W - 2 * PAD);
  const y = (v: number) => H - PAD - (v / max) * (H - 2 * PAD);
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.at).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  const last = points.at(-1)!.v;
  const minutes = Math.round((t1 - t0) / 60_000);
  return html`<figure class="chart"><figcaption>${title}: <b>${fmt(last)}${unit}</b> now, peak ${fmt(max)}${unit} (last ${minutes || '<1'} min)</figcaption><svg class="line" viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}"><line class="axis" x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}"/><path class="series" d="${d}"/></svg></figure>`;
}

/** Horizontal bars, largest first (at most `limit`). */
export function barChart(title: string, values: Readonly<Record<string, number>>, empty: string, limit = 8): Html {
  const rows = Object.entries(values)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit);
  if (!rows.length) return html`<figure class="chart"><figcaption>${title}</figcaption><p class="muted">${empty}</p></figure>`;
  const max = rows[0]![1];
  const rowH = 18;
  const h = rows.length * rowH + 2;
  const bars = rows.map(([k, v], i) => {
    const w = Math.max(2, (v / max) * 150);
    return html`<text class="label" x="0" y="${i * rowH + 13}">${k || '(none)'}</text><rect class="bar" x="160" y="${i * rowH + 3}" width="${w.toFixed(1)}" height="12"/><text class="value" x="${(164 + w).toFixed(1)}" y="${i * rowH + 13}">${fmt(v)}</text>`;
  });
  return html`<figure class="chart"><figcaption>${title}</figcaption><svg class="bars" viewBox="0 0 ${W} ${h}" role="img" aria-label="${title}">${bars}</svg></figure>`;
}
