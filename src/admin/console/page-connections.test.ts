import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConnectionView } from '../control.js';
import { connectionQuery } from './connection-filter.js';
import { MAX_ROWS, connectionsPage, connectionsTable } from './page-connections.js';
import { page } from './layout.js';
import type { Session } from './sessions.js';

const op: Session = { id: 'x', login: 'operator', role: 'operator', source: 'local', csrf: 'tok', createdAt: 0, lastSeen: 0 };

function views(n: number): ConnectionView[] {
  const protocols = ['mapi', 'rpc', 'eas', 'ews'];
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    user: `LAB\\user${i % 1000}`,
    proven: true,
    zone: 'external' as const,
    protocol: protocols[i % 4],
    client: `198.51.${(i >> 8) & 255}.${i & 255}`,
    openedAt: new Date(Date.now() - i * 1000).toISOString(),
    requests: i % 50,
    bytesIn: i * 1000,
    bytesOut: i * 3000,
    ...(i % 4 === 2 ? { device: { id: `DEV${i}`, type: 'iPhone' } } : {}),
    current: { method: 'POST', path: '/mapi/emsmdb/', command: 'NotificationWait', startedAt: new Date().toISOString() },
  }));
}

describe('connections page', () => {
  it('renders 5,000 live connections (figure printed): count, first rows, polling, escaping', () => {
    const all = views(5000);
    const q = connectionQuery(new URLSearchParams());
    connectionsPage(all, q, op); // warm-up
    const times: number[] = [];
    let text = '';
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      text = page('Connections', 'connections', op, connectionsPage(all, q, op)).text;
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(`# connections page with 5,000 live connections: median ${times[2]!.toFixed(1)} ms to render (${(text.length / 1024).toFixed(0)} KiB, ${MAX_ROWS} rows shown); filtered to one user: ${(() => { const t0 = performance.now(); connectionsTable(all, connectionQuery(new URLSearchParams('q=user7')), op); return (performance.now() - t0).toFixed(1); })()} ms`);
    assert.match(text, /5000 of 5000 connection\(s\) \(first 500 shown/);
    assert.equal(text.match(/<tr data-user=/g)!.length, MAX_ROWS);
    assert.match(text, /hx-trigger="every 2s, refresh from:body"/);
  });
  it('escapes what clients supplied (user names, paths, device ids)', () => {
    const evil = views(1).map((v) => ({ ...v, user: 'LAB\\<img src=x onerror=alert(1)>', device: { id: '"><script>', type: '<b>' } }));
    const text = connectionsTable(evil, connectionQuery(new URLSearchParams()), op).text;
    assert.doesNotMatch(text, /<img|<script|<b>/);
  });
});
