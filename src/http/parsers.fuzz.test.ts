// Mutation fuzzing of every HTTP parser: whatever the bytes, a parser returns a result or an
// error and never throws. Deterministic seed, so a failure reproduces.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeTarget } from '../classify/normalize-path.js';
import { ChunkedDecoder } from './chunked.js';
import { requestFraming, responseFraming } from './framing.js';
import { DEFAULT_HEAD_LIMITS } from './head-scan.js';
import { parseRequestHead } from './request-head.js';
import { parseResponseHead } from './response-head.js';

function rng(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

const INTERESTING = [0, 9, 10, 13, 32, 34, 37, 44, 58, 59, 127, 128, 255];

function mutate(base: Buffer, r: () => number): Buffer {
  const b = Buffer.from(base.subarray(0, Math.max(1, Math.floor(r() * (base.length + 8)))));
  for (let k = Math.floor(r() * 6); k >= 0; k--) {
    const i = Math.floor(r() * b.length);
    b[i] = r() < 0.5 ? INTERESTING[Math.floor(r() * INTERESTING.length)]! : Math.floor(r() * 256);
  }
  return b;
}

describe('parser fuzzing', () => {
  const request = Buffer.from('RPC_IN_DATA /rpc/rpcproxy.dll?EXCH01:6001 HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\nTransfer-Encoding: chunked\r\n\r\n');
  const response = Buffer.from('HTTP/1.1 200 Success\r\nContent-Type: application/rpc\r\nContent-Length: 20\r\n\r\n');
  const chunked = Buffer.from('B\r\nPROCESSING\n\r\n8;a="b"\r\nPENDING\n\r\n0\r\nX: 1\r\n\r\n');

  it('request heads and their framing (30000 inputs)', () => {
    const r = rng(1);
    for (let i = 0; i < 30000; i++) {
      const res = parseRequestHead(mutate(request, r), DEFAULT_HEAD_LIMITS);
      if (res.kind === 'head') {
        assert.doesNotThrow(() => requestFraming(res.head));
        assert.doesNotThrow(() => normalizeTarget(res.head.target));
      }
    }
  });

  it('response heads and their framing (30000 inputs)', () => {
    const r = rng(2);
    for (let i = 0; i < 30000; i++) {
      const res = parseResponseHead(mutate(response, r), DEFAULT_HEAD_LIMITS);
      if (res.kind === 'head') assert.doesNotThrow(() => responseFraming(res.head, 'GET'));
    }
  });

  it('chunked bodies split at random points (30000 inputs)', () => {
    const r = rng(3);
    for (let i = 0; i < 30000; i++) {
      const b = mutate(chunked, r);
      const d = new ChunkedDecoder();
      const cut = Math.floor(r() * b.length);
      const out1 = d.push(b.subarray(0, cut));
      if (!out1.error && !out1.done) d.push(b.subarray(cut));
    }
  });

  it('path normalisation (30000 inputs)', () => {
    const r = rng(4);
    const base = Buffer.from('/owa/%2e%2e/ecp/%c3%a9x\\y/./z?@q=1');
    for (let i = 0; i < 30000; i++) assert.doesNotThrow(() => normalizeTarget(mutate(base, r).toString('latin1')));
  });
});
