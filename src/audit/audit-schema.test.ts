import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../config/load.js';
import { configSchema } from '../config/schema.js';

const BASE = ['listeners:', '  - port: 0', '    tls:', '      certificates: [{ cert: c.pem, key: k.pem }]', 'upstream:', '  url: https://exch01'];

describe('audit config', () => {
  it('defaults: SQLite in ./data, decisions only, a commit interval within the promise, 90 days', () => {
    const c = configSchema.parse({ listeners: [{ port: 0, tls: { certificates: [{ cert: 'c', key: 'k' }] } }], upstream: { url: 'https://exch01' } });
    assert.deepEqual(c.audit, { store: 'sqlite', dataDir: 'data', level: 'decisions', commitInterval: 200, maxQueue: 10_000, retentionDays: 90 });
  });

  it('reports audit problems as file:line with the rest of the config', () => {
    const text = [...BASE, 'audit:', '  store: mysql', '  level: everything', '  commitInterval: 1s', '  retentionDays: -1', '  colour: blue'].join('\n');
    const r = loadConfig('/etc/portcullis/portcullis.yaml', text);
    assert.equal(r.ok, false);
    if (r.ok) return;
    const at = (p: string) => r.problems.find((x) => x.path === p);
    assert.equal(at('audit.store')?.line, 8);
    assert.equal(at('audit.level')?.line, 9);
    assert.equal(at('audit.commitInterval')?.line, 10);
    assert.match(at('audit.commitInterval')!.message, /at most 250ms/);
    assert.equal(at('audit.retentionDays')?.line, 11);
    assert.ok(r.problems.some((p) => p.line === 12 && /unknown setting "colour"/.test(p.message)));
  });

  it('store: postgres needs a postgres:// URL', () => {
    const r = loadConfig('/x.yaml', [...BASE, 'audit:', '  store: postgres'].join('\n'));
    assert.equal(r.ok, false);
    if (!r.ok) assert.ok(r.problems.some((p) => p.path === 'audit.postgres' && /needs postgres.url/.test(p.message)));
    const bad = loadConfig('/x.yaml', [...BASE, 'audit:', '  store: postgres', '  postgres: { url: "mysql://h/db" }'].join('\n'));
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.ok(bad.problems.some((p) => p.path === 'audit.postgres.url' && p.line === 9));
  });
});
