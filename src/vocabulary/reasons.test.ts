import assert from 'node:assert/strict';
import { test } from 'node:test';
import { POLICY_REASONS, REASON_CODES, isReasonCode } from './reasons.js';

test('every reason code is listed once', () => {
  assert.equal(new Set(REASON_CODES).size, REASON_CODES.length);
  for (const r of POLICY_REASONS) assert.ok(REASON_CODES.includes(r));
});

test('isReasonCode accepts listed codes and exploit shapes, nothing else', () => {
  for (const [s, ok] of [['group-ok', true], ['upstream-tls', true], ['BAD_CHUNK_SIZE', true], ['exploit-shape:proxylogon-ecp', true], ['exploit-shape:', false], ['made-up', false], ['', false]] as const) {
    assert.equal(isReasonCode(s), ok, s);
  }
});
