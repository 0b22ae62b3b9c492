import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Readiness } from './readiness.js';

test('ready only when every check passes; each cause is reported', async () => {
  const r = new Readiness();
  r.register('upstream', () => ({ ok: true }));
  r.register('directory', async () => ({ ok: true, cause: 'within the grace period' }));
  assert.deepEqual(await r.report(), { ready: true, draining: false, checks: { upstream: { ok: true }, directory: { ok: true, cause: 'within the grace period' } } });
  const off = r.register('audit', () => ({ ok: false, cause: 'not writable' }));
  const down = await r.report();
  assert.equal(down.ready, false);
  assert.equal(down.checks['audit']!.cause, 'not writable');
  off();
  assert.equal((await r.report()).ready, true);
});

test('a check that throws or hangs fails with its cause instead of hanging /readyz', async () => {
  const r = new Readiness();
  r.register('throws', () => {
    throw new Error('boom');
  });
  assert.deepEqual((await r.report()).checks['throws'], { ok: false, cause: 'boom' });
  const r2 = new Readiness();
  r2.register('hangs', () => new Promise(() => {}));
  const t0 = Date.now();
  const rep = await r2.report();
  assert.equal(rep.ready, false);
  assert.match(rep.checks['hangs']!.cause ?? '', /no answer within/);
  assert.ok(Date.now() - t0 < 3_000);
});

test('draining is not ready, whatever the checks say', async () => {
  const r = new Readiness();
  r.register('upstream', () => ({ ok: true }));
  r.startDraining();
  const rep = await r.report();
  assert.equal(rep.ready, false);
  assert.equal(rep.draining, true);
  assert.equal(rep.checks['draining']!.ok, false);
});

test('a second registration under one name replaces the first; the old remover leaves the new one', async () => {
  const r = new Readiness();
  const offOld = r.register('audit', () => ({ ok: false, cause: 'old' }));
  r.register('audit', () => ({ ok: true }));
  offOld();
  assert.deepEqual((await r.report()).checks['audit'], { ok: true });
});
