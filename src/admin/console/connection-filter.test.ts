import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConnectionView } from '../control.js';
import { connectionQuery, filterConnections } from './connection-filter.js';

const view = (id: number, user: string | undefined, protocol: string, bytes: number, openedAt: string, device?: string): ConnectionView => ({
  id,
  user,
  proven: true,
  zone: 'external',
  protocol,
  client: `203.0.113.${id}`,
  openedAt,
  requests: id,
  bytesIn: bytes,
  bytesOut: 0,
  ...(device ? { device: { id: device, type: 'iPhone' } } : {}),
});

const ALL = [view(1, 'LAB\\bob', 'mapi', 500, '2026-12-01T10:00:00Z'), view(2, 'LAB\\alice', 'rpc', 100, '2026-12-01T10:05:00Z'), view(3, 'LAB\\dave', 'eas', 900, '2026-12-01T09:00:00Z', 'ABC123')];

describe('connections filter and sort', () => {
  it('newest first by default; filters by text (user, address, device) and protocol', () => {
    const q = connectionQuery(new URLSearchParams());
    assert.deepEqual(filterConnections(ALL, q).map((c) => c.id), [2, 1, 3]);
    assert.deepEqual(filterConnections(ALL, connectionQuery(new URLSearchParams('q=BOB'))).map((c) => c.id), [1]);
    assert.deepEqual(filterConnections(ALL, connectionQuery(new URLSearchParams('q=abc1'))).map((c) => c.id), [3]);
    assert.deepEqual(filterConnections(ALL, connectionQuery(new URLSearchParams('protocol=rpc'))).map((c) => c.id), [2]);
  });
  it('sorts by any column either way; an unknown sort key is the default', () => {
    assert.deepEqual(filterConnections(ALL, connectionQuery(new URLSearchParams('sort=bytes&dir=asc'))).map((c) => c.id), [2, 1, 3]);
    assert.deepEqual(filterConnections(ALL, connectionQuery(new URLSearchParams('sort=user&dir=asc'))).map((c) => c.id), [2, 1, 3]);
    assert.equal(connectionQuery(new URLSearchParams('sort=__proto__')).sort, 'opened');
  });
});
