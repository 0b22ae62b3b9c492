import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demoBlocks, matches } from './readme-blocks.js';

describe('README demo-check blocks', () => {
  it('parses commands, continuations and outputs', () => {
    const md = ['x', '<!-- demo-check -->', '```text', '$ echo a \\', '    b', 'a b', '$ true', '```', '<!-- /demo-check -->'].join('\n');
    assert.deepEqual(demoBlocks(md), [{ line: 2, steps: [{ command: 'echo a b', expected: ['a b'] }, { command: 'true', expected: [] }] }]);
  });
  it('a marker without its block is an error, not a check that passes', () => {
    assert.throws(() => demoBlocks('<!-- demo-check -->\n```text\n$ true\n```\n'), /demo-check/);
  });
  it('matches with "..." lines and inline wildcards, and normalises volatile values', () => {
    assert.ok(matches(['HTTP/1.1 200 OK', '...', 'X-Lab-Identity: LAB\\alice'], 'HTTP/1.1 200 OK\r\nA: b\r\nC: d\r\nX-Lab-Identity: LAB\\alice\r\n\r\n'));
    assert.ok(matches(['revoked LAB\\bob: 1 open connection(s) closed in 1.1 ms'], 'revoked LAB\\bob: 1 open connection(s) closed in 27 ms\n'));
    assert.ok(matches(['{"level":30,...,"msg":"x"}'], '{"level":30,"time":1,"svc":"p","msg":"x"}\n'));
    assert.ok(!matches(['0 failed, 15 passed'], '0 failed, 16 passed\n'));
    assert.ok(!matches(['HTTP/1.1 200 OK'], 'HTTP/1.1 200 OK\nextra\n'));
  });
});
