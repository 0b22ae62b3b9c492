// Metrics on the admin listener (/metrics, with the token) and the probes (/healthz, /readyz with
// causes), on one gateway process; the worker pool's sum is in workers-metrics.test.ts and real
// Prometheus scrapes in test/interop/prometheus.test.ts.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RawClient } from '../src/doctor/http-probe.js';
import { events } from '../src/events.js';
import { type Env, adminHeaders, startEnv } from './helpers/env.js';

const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

/** `name{labels} value` lines of an exposition, as a map from the series to its value. */
export function series(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

describe('metrics and health on the admin endpoint', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ config: (b) => ({ ...b, health: { address: '127.0.0.1', port: 0 } }) });
  });
  after(() => env.stop());

  it('/metrics needs the token and counts requests, decisions, connections, handshakes and bytes', async () => {
    const admin = env.runtime.admin!.url;
    assert.equal((await fetch(`${admin}/metrics`)).status, 401, 'no token, no metrics');
    const c = await RawClient.connect(env.port, env.pki.ca);
    for (let i = 0; i < 3; i++) assert.equal((await c.request('GET', '/owa/', { Authorization: basic('LAB\\alice') })).head.status, 200);
    const held = await RawClient.connect(env.port, env.pki.ca);
    assert.equal((await held.request('GET', '/owa/', { Authorization: basic('LAB\\bob') })).head.status, 200);
    const bad = await RawClient.connect(env.port, env.pki.ca);
    assert.equal((await bad.request('GET', '/ecp/', {})).head.status, 403);
    c.close();
    await new Promise((r) => setTimeout(r, 100));
    const res = await fetch(`${admin}/metrics`, { headers: adminHeaders(env) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const s = series(await res.text());
    assert.equal(s.get('portcullis_requests_total{protocol="owa",zone="external",decision="allow",reason=""}'), 4);
    assert.equal(s.get('portcullis_requests_total{protocol="ecp",zone="external",decision="deny",reason="protocol-blocked-in-zone"}'), 1);
    assert.equal(s.get('portcullis_gate_decisions_total{gate="access",protocol="owa",zone="external",decision="allow",reason="group-ok"}'), 4);
    assert.equal(s.get('portcullis_identity_handshakes_total{scheme="Basic",outcome="bound"}'), 2);
    assert.equal(s.get('portcullis_client_connections{listener="external",zone="external"}'), 1, 'only bob is still connected');
    assert.equal(s.get('portcullis_pinned_pairs{protocol="owa",zone="external"}'), 1);
    assert.equal(s.get('portcullis_connections_closed_total{zone="external",cause="client-finished"}'), 1);
    assert.equal(s.get('portcullis_connections_closed_total{zone="external",cause="refused"}'), 1);
    assert.equal(s.get('portcullis_upstream_connect_duration_seconds_count'), 2);
    assert.equal(s.get('portcullis_request_duration_seconds_count{protocol="owa",status_class="2xx"}'), 4);
    assert.ok((s.get('portcullis_client_bytes_total{direction="in"}') ?? 0) > 0, 'bytes of open connections are counted too');
    assert.ok((s.get('portcullis_client_bytes_total{direction="out"}') ?? 0) > 0);
    assert.equal(s.get('portcullis_draining'), 0);
    held.close();
    bad.close();
  });

  it('counts revocations, reloads and the audit store state it hears of', async () => {
    const admin = env.runtime.admin!.url;
    const before = series(await (await fetch(`${admin}/metrics`, { headers: adminHeaders(env) })).text());
    await fetch(`${admin}/api/revoke`, { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ user: 'LAB\\dave', reason: 'test' }) });
    assert.ok(await env.runtime.reload('api'));
    // The real trail's batch (the revocation and reload records) is published first, then this one.
    await env.runtime.audit!.writer.flush();
    events.auditStoreState.publish({ at: Date.now(), queueDepth: 7, spoolRecords: 3, spoolBytes: 512, written: 0, error: 'database unavailable' });
    const s = series(await (await fetch(`${admin}/metrics`, { headers: adminHeaders(env) })).text());
    assert.equal(s.get('portcullis_revocations_total'), 1);
    const reloads = 'portcullis_config_reloads_total{result="ok",trigger="api"}';
    assert.equal(s.get(reloads)! - (before.get(reloads) ?? 0), 1);
    assert.equal(s.get('portcullis_audit_queue_depth'), 7);
    assert.equal(s.get('portcullis_audit_spool_records'), 3);
    assert.equal(s.get('portcullis_audit_write_errors_total'), 1);
  });

  it('/healthz and /readyz answer without a token, on the admin and the probe listener, with causes', async () => {
    const admin = env.runtime.admin!.url;
    assert.deepEqual(await (await fetch(`${admin}/healthz`)).json(), { ok: true });
    const ready = await fetch(`${admin}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { ready: boolean; checks: Record<string, { ok: boolean }> };
    assert.equal(body.ready, true);
    assert.deepEqual(Object.keys(body.checks).sort(), ['audit', 'directory', 'state', 'upstream']);
    const remove = env.runtime.readiness.register('audit', () => ({ ok: false, cause: 'audit database unavailable and the spool folder is not writable' }));
    const r2 = await fetch(`${admin}/readyz`);
    assert.equal(r2.status, 503);
    const b2 = (await r2.json()) as { checks: Record<string, { ok: boolean; cause?: string }> };
    assert.equal(b2.checks['audit']!.cause, 'audit database unavailable and the spool folder is not writable');
    remove();
    assert.equal((await fetch(`${admin}/readyz`)).status, 200, 'a registered check can be removed');
  });

  it('the dedicated probe listener serves only the probes', async () => {
    const probes = env.runtime.health!.url;
    assert.deepEqual(await (await fetch(`${probes}/healthz`)).json(), { ok: true });
    assert.equal((await fetch(`${probes}/readyz`)).status, 200);
    assert.equal((await fetch(`${probes}/metrics`)).status, 404, 'nothing but the probes');
    assert.equal((await fetch(`${probes}/api/connections`, { headers: adminHeaders(env) })).status, 404);
  });
});

describe('readiness checks', () => {
  it('an unreachable upstream names the cause', async () => {
    const { upstreamCheck } = await import('../src/health/gateway-checks.js');
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const check = upstreamCheck(() => ({ url: `https://127.0.0.1:${port}`, tls: { insecure: true }, connectTimeout: 1000 }) as never);
    const r = await check();
    assert.equal(r.ok, false);
    assert.match(r.cause ?? '', /refused the connection/);
    assert.doesNotMatch(r.cause ?? '', /127\.0\.0\.1/, 'the cause names no host');
  });
});
