// The Grafana dashboard in examples/ may only query series the gateway exports: a renamed metric
// must fail here, not leave an empty panel in production. (Real Prometheus evaluates every query
// against a scraped gateway in test/interop/prometheus.test.ts.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { METRIC_NAMES } from './gateway-metrics.js';
import { dashboardQueries, metricsOf } from './dashboard-queries.js';

const DASHBOARD = new URL('../../examples/grafana/portcullis-dashboard.json', import.meta.url).pathname;

test('every dashboard query names only metrics the gateway exports', () => {
  const queries = dashboardQueries(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
  assert.ok(queries.length >= 15);
  const known = new Set(METRIC_NAMES);
  for (const q of queries) {
    const names = metricsOf(q.expr);
    assert.ok(names.length > 0, `${q.panel}: the query names no metric`);
    for (const n of names) assert.ok(known.has(n), `${q.panel}: ${n} is not exported`);
  }
  const used = new Set(queries.flatMap((q) => metricsOf(q.expr)));
  assert.deepEqual(METRIC_NAMES.filter((n) => !used.has(n)), [], 'every exported metric has a panel');
});

test('metricsOf strips histogram suffixes and ignores label values and functions', () => {
  assert.deepEqual(metricsOf('histogram_quantile(0.95, sum by (le) (rate(portcullis_request_duration_seconds_bucket{protocol="portcullis_x"}[5m])))'), ['portcullis_request_duration_seconds']);
  assert.deepEqual(metricsOf('sum(portcullis_a_total) / sum(portcullis_b)'), ['portcullis_a_total', 'portcullis_b']);
});
