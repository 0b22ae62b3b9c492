// Reads the Prometheus text exposition the admin endpoint serves (one process's, or the worker
// pool's added up by the primary), so the console charts exactly what /metrics says.

export interface Series {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;

export function parseExposition(text: string): Series[] {
  const out: Series[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    if (m[2]) for (const l of m[2].matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Sums a metric's series, grouped by one label ('' groups everything). */
export function sumBy(series: readonly Series[], name: string, label: string, where: (l: Readonly<Record<string, string>>) => boolean = () => true): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of series) {
    if (s.name !== name || !where(s.labels)) continue;
    const k = label ? (s.labels[label] ?? '') : '';
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}
