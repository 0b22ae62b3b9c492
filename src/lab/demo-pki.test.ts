import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createCa, issueServerCert } from './certs.js';
import { ensureDemoPki } from './demo-pki.js';

describe('ensureDemoPki', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'demo-pki-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const read = (n: string) => readFileSync(path.join(dir, n), 'utf8');

  it('makes a CA and both server certificates on the first run, keeps them all on the next', async () => {
    const first = await ensureDemoPki(dir);
    assert.deepEqual(first.created.map((f) => path.basename(f)), ['ca.crt', 'gateway.crt', 'lab.crt']);
    const before = ['ca.crt', 'ca.key', 'gateway.crt', 'gateway.key', 'lab.crt'].map(read);
    const second = await ensureDemoPki(dir);
    assert.deepEqual(second.created, []);
    assert.deepEqual(['ca.crt', 'ca.key', 'gateway.crt', 'gateway.key', 'lab.crt'].map(read), before);
  });

  it('re-issues a server certificate that names other hosts, under the same CA', async () => {
    const ca = read('ca.crt');
    const other = await createCa('Someone else');
    const wrong = await issueServerCert(other, { names: ['other.example'] });
    writeFileSync(path.join(dir, 'gateway.crt'), wrong.cert);
    writeFileSync(path.join(dir, 'gateway.key'), wrong.key);
    const r = await ensureDemoPki(dir);
    assert.deepEqual(r.created.map((f) => path.basename(f)), ['gateway.crt']);
    assert.equal(read('ca.crt'), ca);
    // Issued by the CA read back from disk: it chains, so the next run keeps it.
    assert.deepEqual((await ensureDemoPki(dir)).created, []);
  });

  it('re-issues server certificates near their end but keeps the CA; a new CA only when it expires', async () => {
    const ca = read('ca.crt');
    const in900Days = Date.now() + 900 * 86_400_000;
    const r = await ensureDemoPki(dir, in900Days);
    assert.deepEqual(r.created.map((f) => path.basename(f)), ['gateway.crt', 'lab.crt']);
    assert.equal(read('ca.crt'), ca);
    const in11Years = Date.now() + 4000 * 86_400_000;
    assert.ok((await ensureDemoPki(dir, in11Years)).created.some((f) => f.endsWith('ca.crt')));
    assert.notEqual(read('ca.crt'), ca);
  });

  it('a missing CA key means a new CA (the old one cannot sign)', async () => {
    rmSync(path.join(dir, 'ca.key'));
    const r = await ensureDemoPki(dir);
    assert.deepEqual(r.created.map((f) => path.basename(f)), ['ca.crt', 'gateway.crt', 'lab.crt']);
  });
});
