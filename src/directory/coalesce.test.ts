import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Coalescer } from './coalesce.js';

describe('coalescing', () => {
  it('100 concurrent callers of one key run the query once and all get its answer', async () => {
    const c = new Coalescer<string, number>();
    let runs = 0;
    let release!: (v: number) => void;
    const gate = new Promise<number>((r) => (release = r));
    const all = Array.from({ length: 100 }, () => c.run('bob', () => (runs++, gate)));
    release(42);
    assert.deepEqual(new Set(await Promise.all(all)), new Set([42]));
    assert.equal(runs, 1);
    assert.equal(c.joined, 99);
    assert.equal(c.size, 0, 'forgotten once answered');
  });

  it('different keys do not share, and a later call after the answer runs again', async () => {
    const c = new Coalescer<string, string>();
    let runs = 0;
    const q = async (k: string) => (runs++, k);
    assert.deepEqual(await Promise.all([c.run('a', () => q('a')), c.run('b', () => q('b'))]), ['a', 'b']);
    await c.run('a', () => q('a'));
    assert.equal(runs, 3);
  });

  it('a failure reaches every caller and does not stick', async () => {
    const c = new Coalescer<string, number>();
    const failing = () => Promise.reject(new Error('down'));
    const r = await Promise.allSettled([c.run('x', failing), c.run('x', failing)]);
    assert.ok(r.every((x) => x.status === 'rejected'));
    assert.equal(await c.run('x', async () => 1), 1);
    await assert.rejects(c.run('y', () => { throw new Error('sync throw'); }), /sync throw/);
    assert.equal(c.size, 0);
  });
});
