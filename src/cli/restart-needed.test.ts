import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema } from '../config/schema.js';
import { restartNeeded } from './restart-needed.js';

const base = {
  listeners: [{ port: 443, tls: { certificates: [{ cert: 'a.crt', key: 'a.key' }] } }],
  upstream: { url: 'https://exch01' },
  admin: { port: 9090 },
};
const cfg = (o: Record<string, unknown> = {}) => configSchema.parse({ ...base, ...o });

describe('restartNeeded', () => {
  it('listeners, certificates and everything per request need no restart', () => {
    const next = cfg({ listeners: [base.listeners[0], { port: 8443, zone: 'internal', tls: { certificates: [{ cert: 'b.crt', key: 'b.key' }], minVersion: 'TLSv1.3' } }], connections: { perSource: 5 } });
    assert.deepEqual(restartNeeded(cfg(), next), []);
  });
  it('names workers, the admin endpoint, the state store and the log level', () => {
    assert.deepEqual(restartNeeded(cfg(), cfg({ workers: 2, admin: { port: 9091 }, state: { store: 'memory' }, log: { level: 'debug' } })), [
      'workers: 1 → 2 takes effect after a restart',
      'admin endpoint settings take effect after a restart',
      'state store settings take effect after a restart (revocations and locks stay where they are until then)',
      'log.level: info → debug takes effect after a restart',
    ]);
  });
});
