// What the metrics subscriber makes of the events: decisions (allow, deny, error), gauges that go
// up and down with connections and pinned pairs, bytes of open and closed connections.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ConnectionClosedEvent, type RequestEndedEvent, events } from '../events.js';
import { startMetrics } from './gateway-metrics.js';

const ref = { connection: 1, listener: 'external', zone: 'external' as const, clientIp: '203.0.113.1', clientPort: 40000, at: 0 };
const ended = (o: Partial<RequestEndedEvent>): RequestEndedEvent => ({ ...ref, request: 1, method: 'GET', path: '/owa/', protocol: 'owa', user: undefined, status: 200, reasons: [], refused: false, concealed: false, detail: undefined, ref: undefined, requestBytes: 0, responseBytes: 0, durationMs: 5, ...o });
const tls = { sni: undefined, tlsVersion: 'TLSv1.3', tlsCipher: undefined };
const closed = (o: Partial<ConnectionClosedEvent>): ConnectionClosedEvent => ({ ...ref, ...tls, cause: 'client-closed', detail: undefined, user: undefined, proven: false, scheme: undefined, protocol: 'owa', requests: 1, bytesIn: 0, bytesOut: 0, durationMs: 10, pinned: undefined, ...o });

async function scrape(m: ReturnType<typeof startMetrics>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await m.registry.metrics()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

test('requests: allowed, denied (also concealed), and upstream failures as errors', async () => {
  const m = startMetrics({ processMetrics: false });
  try {
    events.requestEnded.publish(ended({}));
    events.requestEnded.publish(ended({ status: 401, concealed: true, reasons: ['not-in-group', 'default-deny'] }));
    events.requestEnded.publish(ended({ status: 403, refused: true, reasons: ['protocol-blocked-in-zone'], protocol: 'ecp' }));
    events.requestEnded.publish(ended({ status: 504, refused: true, reasons: ['upstream-response-timeout'] }));
    events.requestEnded.publish(ended({ status: 400, refused: true, reasons: ['BAD_REQUEST_LINE'], protocol: undefined, method: '', path: '' }));
    const s = await scrape(m);
    assert.equal(s.get('portcullis_requests_total{protocol="owa",zone="external",decision="allow",reason=""}'), 1);
    assert.equal(s.get('portcullis_requests_total{protocol="owa",zone="external",decision="deny",reason="not-in-group"}'), 1);
    assert.equal(s.get('portcullis_requests_total{protocol="ecp",zone="external",decision="deny",reason="protocol-blocked-in-zone"}'), 1);
    assert.equal(s.get('portcullis_requests_total{protocol="owa",zone="external",decision="error",reason="upstream-response-timeout"}'), 1);
    assert.equal(s.get('portcullis_requests_total{protocol="none",zone="external",decision="deny",reason="BAD_REQUEST_LINE"}'), 1);
    assert.equal(s.get('portcullis_request_duration_seconds_count{protocol="owa",status_class="5xx"}'), 1);
  } finally {
    m.close();
  }
});

test('open connections and pinned pairs go up and down; bytes count open and closed connections', async () => {
  let live = { in: 100, out: 1000 };
  const m = startMetrics({ processMetrics: false, liveBytes: () => live });
  try {
    events.connectionOpened.publish({ ...ref, ...tls });
    events.connectionOpened.publish({ ...ref, ...tls, connection: 2 });
    events.upstreamConnected.publish({ ...ref, upstream: 'exch:443', protocol: 'mapi', connectMs: 3 });
    let s = await scrape(m);
    assert.equal(s.get('portcullis_client_connections{listener="external",zone="external"}'), 2);
    assert.equal(s.get('portcullis_pinned_pairs{protocol="mapi",zone="external"}'), 1);
    assert.equal(s.get('portcullis_client_bytes_total{direction="out"}'), 1000);
    events.connectionClosed.publish(closed({ pinned: { protocol: 'mapi' }, bytesIn: 50, bytesOut: 500, cause: 'drain-timeout' }));
    events.connectionClosed.publish(closed({ connection: 2, cause: 'refused', bytesIn: 50, bytesOut: 500 }));
    live = { in: 0, out: 0 };
    s = await scrape(m);
    assert.equal(s.get('portcullis_client_connections{listener="external",zone="external"}'), 0);
    assert.equal(s.get('portcullis_pinned_pairs{protocol="mapi",zone="external"}'), 0);
    assert.equal(s.get('portcullis_connections_closed_total{zone="external",cause="drain-timeout"}'), 1);
    assert.equal(s.get('portcullis_client_bytes_total{direction="out"}'), 1000, 'bytes move from open to closed connections without the counter dropping');
  } finally {
    m.close();
  }
});

test('close() unsubscribes: later events change nothing', async () => {
  const m = startMetrics({ processMetrics: false });
  m.close();
  assert.equal(events.requestEnded.hasSubscribers, false);
});
