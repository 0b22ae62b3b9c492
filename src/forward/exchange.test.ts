import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HeaderField } from '../http/headers.js';
import type { ResponseHead } from '../http/response-head.js';
import { type Exchange, planResponse } from './exchange.js';
import type { GateVerdict } from './gate.js';
import type { BodyTransform } from './response-rewrite.js';

const h = (name: string, value: string): HeaderField => ({ name, value });
const res = (status: number, headers: HeaderField[]): ResponseHead => ({ version: '1.1', status, reason: 'x', headers });
const exchange = (verdicts: GateVerdict[], method = 'GET') => ({ head: { method, target: '/', version: '1.1', headers: [] }, verdicts }) as unknown as Exchange;
const transform: BodyTransform = { maxBytes: 1024, apply: () => ({ ok: true, body: Buffer.alloc(0) }) };

test('a plain answer streams with its framing', () => {
  const p = planResponse(exchange([{ allow: true }]), res(200, [h('Content-Length', '5')]));
  assert.equal(p.kind, 'stream');
  assert.deepEqual(p.kind === 'stream' && p.framing, { kind: 'length', length: 5 });
});

test('101 is refused as a bad response; 1xx is interim and reported to the gates', () => {
  assert.equal(planResponse(exchange([]), res(101, [])).kind, 'bad');
  const seen: number[] = [];
  const p = planResponse(exchange([{ allow: true, onInterim: (s) => seen.push(s) }]), res(100, []));
  assert.equal(p.kind, 'interim');
  assert.deepEqual(seen, [100]);
});

test('ambiguous framing from upstream is a bad response, never forwarded', () => {
  const p = planResponse(exchange([]), res(200, [h('Content-Length', '5'), h('Transfer-Encoding', 'chunked')]));
  assert.equal(p.kind, 'bad');
});

test('a gate can refuse, rewrite headers or ask for the body to be collected', () => {
  const refusal = { status: 403, reason: 'unauthenticated-answer' as const, message: 'no' };
  assert.deepEqual(planResponse(exchange([{ allow: true, onResponse: () => ({ pass: false, refusal }) }]), res(200, [])), { kind: 'refuse', refusal });
  const rewritten = planResponse(exchange([{ allow: true, onResponse: () => ({ pass: true, headers: [h('Content-Length', '0')] }) }]), res(401, [h('WWW-Authenticate', 'Negotiate'), h('Content-Length', '0')]));
  assert.equal(rewritten.kind, 'stream');
  assert.deepEqual(rewritten.kind === 'stream' && rewritten.head.headers, [h('Content-Length', '0')]);
  const buffered = planResponse(exchange([{ allow: true, onResponse: () => ({ pass: true, transform }) }]), res(200, [h('Content-Length', '3')]));
  assert.equal(buffered.kind, 'buffer');
});

test('a HEAD answer has no body whatever its Content-Length says', () => {
  const p = planResponse(exchange([], 'HEAD'), res(200, [h('Content-Length', '500')]));
  assert.deepEqual(p.kind === 'stream' && p.framing, { kind: 'none' });
});
