// Reads the PromQL queries out of a Grafana dashboard (tests: every query must name metrics the
// gateway exports, and real Prometheus must evaluate it).

export interface DashboardQuery {
  readonly panel: string;
  readonly expr: string;
}

interface Panel {
  readonly title?: string;
  readonly targets?: ReadonlyArray<{ readonly expr?: string }>;
  readonly panels?: readonly Panel[];
}

export function dashboardQueries(dashboard: { readonly panels?: readonly Panel[] }): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const walk = (ps: readonly Panel[] | undefined) => {
    for (const p of ps ?? []) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ panel: p.title ?? '(untitled)', expr: t.expr });
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** The portcullis_ series an expression reads (histogram suffixes removed), outside label matchers. */
export function metricsOf(expr: string): string[] {
  const bare = expr.replace(/\{[^}]*\}/g, '{}').replace(/"[^"]*"/g, '""');
  const names = [...bare.matchAll(/\bportcullis_[a-z0-9_]+/g)].map((m) => m[0]);
  return [...new Set(names.map((n) => (n.endsWith('_duration_seconds_bucket') || n.endsWith('_duration_seconds_sum') || n.endsWith('_duration_seconds_count') ? n.replace(HISTOGRAM_SUFFIX, '') : n)))];
}
