// Prometheus metrics, a subscriber of the events seam (src/events.ts): the core publishes, this
// counts. Each gateway process keeps its own registry; with workers the primary asks every worker
// for its metrics as JSON and adds them up (prom-client's AggregatorRegistry.aggregate), so one
// scrape of the admin listener sees the whole pool. Label values come from closed lists (zones,
// protocols, reason codes, close causes), so the series stay bounded.
import client from 'prom-client';
import { type TypedChannel, events } from '../events.js';

const PREFIX = 'portcullis_';

/** Seconds; from a cached 401 to a NotificationWait of several minutes. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];
const CONNECT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Every series name this module exports (the dashboard test checks its queries against it). */
export const METRIC_NAMES = [
  'requests_total',
  'gate_decisions_total',
  'request_duration_seconds',
  'upstream_connect_duration_seconds',
  'upstream_failures_total',
  'client_connections',
  'pinned_pairs',
  'connections_closed_total',
  'connections_refused_total',
  'identity_handshakes_total',
  'lockouts_total',
  'revocations_total',
  'client_bytes_total',
  'audit_queue_depth',
  'audit_spool_records',
  'audit_spool_bytes',
  'audit_records_written_total',
  'audit_write_errors_total',
  'config_reloads_total',
  'draining',
].map((n) => PREFIX + n);

export interface MetricsOptions {
  /** Bytes moved by connections still open (closed ones are counted when they close). */
  readonly liveBytes?: () => { readonly in: number; readonly out: number };
  /** Node process metrics (CPU, memory, event loop lag), prefixed `portcullis_`. */
  readonly processMetrics?: boolean;
}

export interface GatewayMetrics {
  readonly registry: client.Registry;
  /** Marks the process as draining (SIGTERM). */
  setDraining(on: boolean): void;
  /** Stops counting (unsubscribes every channel). */
  close(): void;
}

export function startMetrics(opts: MetricsOptions = {}): GatewayMetrics {
  const registry = new client.Registry();
  const reg = [registry];
  // The data path only bumps numbers in a Map; prom-client's labelled metrics (which hash their
  // label object on every call) are filled from them when a scrape collects.
  const counter = (name: string, help: string, labelNames: readonly string[]) => tally('counter', name, help, labelNames);
  const gauge = (name: string, help: string, labelNames: readonly string[]) => tally('gauge', name, help, labelNames);
  function tally(kind: 'counter' | 'gauge', name: string, help: string, labelNames: readonly string[]) {
    const values = new Map<string, { readonly labels: Record<string, string>; n: number }>();
    const slot = (parts: readonly string[]) => {
      const key = parts.join('\u0000');
      let v = values.get(key);
      if (!v) values.set(key, (v = { labels: Object.fromEntries(labelNames.map((l, i) => [l, parts[i]!])), n: 0 }));
      return v;
    };
    if (kind === 'counter') {
      new client.Counter({
        name: PREFIX + name,
        help,
        labelNames,
        registers: reg,
        collect() {
          this.reset();
          for (const v of values.values()) this.inc(v.labels, v.n);
        },
      });
    } else {
      new client.Gauge({
        name: PREFIX + name,
        help,
        labelNames,
        registers: reg,
        collect() {
          this.reset();
          for (const v of values.values()) this.set(v.labels, v.n);
        },
      });
    }
    return {
      inc: (...parts: string[]) => void slot(parts).n++,
      add: (n: number, ...parts: string[]) => void (slot(parts).n += n),
      dec: (...parts: string[]) => void slot(parts).n--,
      set: (n: number, ...parts: string[]) => void (slot(parts).n = n),
    };
  }

  const requests = counter('requests_total', 'Requests by protocol, zone, decision (allow, deny, error) and first reason (empty when allowed).', ['protocol', 'zone', 'decision', 'reason']);
  const decisions = counter('gate_decisions_total', 'Gate decisions by gate, decision and first reason (policy reasons for allowed requests too); concealed refusals count as deny.', ['gate', 'protocol', 'zone', 'decision', 'reason']);
  const duration = new client.Histogram({ name: `${PREFIX}request_duration_seconds`, help: 'From request head to the end of the answer, by protocol and status class.', labelNames: ['protocol', 'status_class'], buckets: REQUEST_BUCKETS, registers: reg });
  const durationOf = new Map<string, { observe(v: number): void }>();
  const connect = new client.Histogram({ name: `${PREFIX}upstream_connect_duration_seconds`, help: 'TCP and TLS connect to Exchange for a new pinned pair.', labelNames: [], buckets: CONNECT_BUCKETS, registers: reg });
  const upstreamFailures = counter('upstream_failures_total', 'Upstream connects or answers that failed, by reason and phase.', ['reason', 'phase']);
  const openConnections = gauge('client_connections', 'Client connections open (TLS established), by listener and zone.', ['listener', 'zone']);
  const pinned = gauge('pinned_pairs', 'Client connections with their pinned Exchange connection open, by protocol (of the first request) and zone.', ['protocol', 'zone']);
  const closed = counter('connections_closed_total', 'Client connections closed, by zone and cause.', ['zone', 'cause']);
  const refused = counter('connections_refused_total', 'Sockets refused or closed before serving (caps, TLS handshake), by listener and cause.', ['listener', 'cause']);
  const handshakes = counter('identity_handshakes_total', 'Identity steps by scheme and outcome (bound, bad-password, refused-by-exchange, denied, ...).', ['scheme', 'outcome']);
  const lockouts = counter('lockouts_total', 'Users locked out by the smart lockout.', []);
  const revocations = counter('revocations_total', 'Users revoked by an administrator.', []);
  const closedBytes = { in: 0, out: 0 };
  new client.Counter({
    name: `${PREFIX}client_bytes_total`,
    help: 'Bytes from (in) and to (out) clients, open connections included.',
    labelNames: ['direction'],
    registers: reg,
    collect() {
      const live = opts.liveBytes?.() ?? { in: 0, out: 0 };
      this.reset();
      this.inc({ direction: 'in' }, closedBytes.in + live.in);
      this.inc({ direction: 'out' }, closedBytes.out + live.out);
    },
  });
  const auditQueue = gauge('audit_queue_depth', 'Audit records waiting for the next batch commit.', []);
  const auditSpool = gauge('audit_spool_records', 'Audit records spooled to the local file while the database is unavailable.', []);
  const auditSpoolBytes = gauge('audit_spool_bytes', 'Size of the audit spool file.', []);
  const auditWritten = counter('audit_records_written_total', 'Audit records committed.', []);
  const auditErrors = counter('audit_write_errors_total', 'Audit batch commits that failed.', []);
  const reloads = counter('config_reloads_total', 'Configuration reloads by result (ok, refused) and trigger.', ['result', 'trigger']);
  const draining = gauge('draining', '1 while the process drains for shutdown.', []);
  // Series without labels exist from the start (0), so dashboards and alerts see them at once.
  for (const m of [lockouts, revocations, auditWritten, auditErrors]) m.add(0);
  for (const m of [auditQueue, auditSpool, auditSpoolBytes, draining]) m.set(0);
  if (opts.processMetrics !== false) {
    client.collectDefaultMetrics({ register: registry, prefix: PREFIX });
    // Gauges named like counters: promtool check metrics (and recording rules using rate()) object.
    for (const n of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(PREFIX + n);
  }

  const offs: Array<() => void> = [];
  const on = <T>(ch: TypedChannel<T>, fn: (ev: T) => void) => {
    ch.subscribe(fn);
    offs.push(() => void ch.unsubscribe(fn));
  };
  on(events.requestEnded, (e) => {
    const protocol = e.protocol ?? 'none';
    const decision = e.concealed || (e.refused && !e.reasons[0]?.startsWith('upstream-')) ? 'deny' : e.refused ? 'error' : 'allow';
    requests.inc(protocol, e.zone, decision, decision === 'allow' ? '' : (e.reasons[0] ?? ''));
    const cls = `${protocol}\u0000${Math.floor(e.status / 100)}`;
    let h = durationOf.get(cls);
    if (!h) durationOf.set(cls, (h = duration.labels(protocol, `${Math.floor(e.status / 100)}xx`)));
    h.observe(e.durationMs / 1000);
  });
  on(events.gateDecision, (e) => {
    decisions.inc(e.gate, e.protocol, e.zone, e.allow ? 'allow' : 'deny', e.decision.reasons[0] ?? '');
  });
  on(events.connectionOpened, (e) => openConnections.inc(e.listener, e.zone));
  on(events.upstreamConnected, (e) => {
    connect.observe(e.connectMs / 1000);
    pinned.inc(e.protocol, e.zone);
  });
  on(events.upstreamFailed, (e) => upstreamFailures.inc(e.reason, e.phase));
  on(events.connectionClosed, (e) => {
    openConnections.dec(e.listener, e.zone);
    if (e.pinned) pinned.dec(e.pinned.protocol, e.zone);
    closed.inc(e.zone, e.cause);
    closedBytes.in += e.bytesIn;
    closedBytes.out += e.bytesOut;
  });
  on(events.connectionRefused, (e) => refused.inc(e.listener, e.cause));
  on(events.identityBound, (e) => handshakes.inc(e.scheme, e.outcome));
  on(events.loginFailed, (e) => handshakes.inc(e.scheme, e.outcome));
  on(events.userLocked, () => lockouts.inc());
  on(events.userRevoked, () => revocations.inc());
  on(events.auditStoreState, (e) => {
    auditQueue.set(e.queueDepth);
    auditSpool.set(e.spoolRecords);
    auditSpoolBytes.set(e.spoolBytes);
    if (e.written > 0) auditWritten.add(e.written);
    if (e.error !== undefined) auditErrors.inc();
  });
  on(events.configReloaded, (e) => reloads.inc('ok', e.trigger));
  on(events.reloadRefused, (e) => reloads.inc('refused', e.trigger));

  return {
    registry,
    setDraining: (v) => draining.set(v ? 1 : 0),
    close() {
      for (const off of offs.splice(0)) off();
      registry.clear();
    },
  };
}

/** Adds up the metrics of several processes (each `registry.getMetricsAsJSON()`) into one exposition. */
export async function aggregateMetrics(parts: readonly client.MetricObjectWithValues<client.MetricValue<string>>[][]): Promise<string> {
  return client.AggregatorRegistry.aggregate(parts as Parameters<typeof client.AggregatorRegistry.aggregate>[0]).metrics();
}

export const METRICS_CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE;
