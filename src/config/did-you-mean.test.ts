import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closest, editDistance } from './did-you-mean.js';

describe('editDistance', () => {
  const table: Array<[string, string, number]> = [
    ['', '', 0],
    ['adress', 'address', 1],
    ['Slaes', 'Sales', 1],
    ['bbo', 'bob', 1],
    ['listener', 'listeners', 1],
    ['kitten', 'sitting', 3],
    ['PORT', 'port', 0],
    ['abc', '', 3],
  ];
  for (const [a, b, want] of table) it(`${a} / ${b} = ${want}`, () => assert.equal(editDistance(a, b), want));
});

describe('closest', () => {
  const keys = ['listeners', 'upstream', 'http', 'connections', 'zones', 'directory', 'policy', 'admin', 'address', 'lockout'];
  it('suggests a near key', () => {
    assert.equal(closest('listner', keys), 'listeners');
    assert.equal(closest('adress', keys), 'address');
    assert.equal(closest('Policy', keys), 'policy');
    assert.equal(closest('lockuot', keys), 'lockout');
  });
  it('suggests nothing for an unrelated name', () => {
    assert.equal(closest('bogus', keys), undefined);
    assert.equal(closest('x', keys), undefined);
  });
});
