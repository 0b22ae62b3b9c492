// A gateway whose audit trail cannot be written does not start, and says why in one line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { DEMO_DIRECTORY, DEMO_POLICY, testPki } from './helpers/env.js';

const BIN = new URL('../bin/portcullis.js', import.meta.url).pathname;

describe('portcullis serve with an unusable audit data folder', () => {
  it('stops before listening with one line naming the file', async () => {
    const pki = await testPki();
    const dir = mkdtempSync(path.join(pki.dir, 'audit-start-'));
    writeFileSync(path.join(dir, 'not-a-folder'), 'x');
    const config = path.join(dir, 'portcullis.yaml');
    writeFileSync(
      config,
      stringify({
        listeners: [{ address: '127.0.0.1', port: 0, tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
        upstream: { url: 'https://127.0.0.1:1', tls: { ca: pki.caFile } },
        directory: { provider: 'file', file: DEMO_DIRECTORY },
        policy: DEMO_POLICY,
        audit: { dataDir: 'not-a-folder/audit' },
      }),
    );
    const r = spawnSync(process.execPath, [BIN, 'serve', '-c', config], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^portcullis: audit store .*not-a-folder\/audit\/audit\.sqlite: ENOTDIR/);
    assert.ok(!r.stdout.includes('gateway listening'));
  });
});
