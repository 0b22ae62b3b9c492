import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { responseFraming } from './framing.js';
import { DEFAULT_HEAD_LIMITS } from './head-scan.js';
import { parseResponseHead } from './response-head.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('parseResponseHead', () => {
  it('keeps the MS-RPCH error reason phrase byte-exact', () => {
    const r = parseResponseHead(b('HTTP/1.0 503 RPC Error: 6ba\r\nContent-Length: 0\r\n\r\n'), DEFAULT_HEAD_LIMITS);
    assert.equal(r.kind, 'head');
    if (r.kind === 'head') {
      assert.equal(r.head.version, '1.0');
      assert.equal(r.head.status, 503);
      assert.equal(r.head.reason, 'RPC Error: 6ba');
    }
  });

  it('parses an interim 100 Continue and an empty reason', () => {
    const r = parseResponseHead(b('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 \r\n\r\n'), DEFAULT_HEAD_LIMITS);
    assert.equal(r.kind === 'head' && r.head.status, 100);
    const r2 = parseResponseHead(b('HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n'), DEFAULT_HEAD_LIMITS);
    assert.equal(r2.kind === 'head' && r2.head.reason, '');
  });

  it('is incomplete at every split point', () => {
    const raw = b('HTTP/1.1 200 Success\r\nContent-Type: application/rpc\r\nContent-Length: 1073741824\r\n\r\n');
    for (let i = 0; i < raw.length; i++) assert.equal(parseResponseHead(raw.subarray(0, i), DEFAULT_HEAD_LIMITS).kind, 'incomplete');
    assert.equal(parseResponseHead(raw, DEFAULT_HEAD_LIMITS).kind, 'head');
  });

  for (const [name, raw] of [
    ['status out of range', 'HTTP/1.1 099 x\r\n\r\n'],
    ['two-digit status', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['HTTP/2', 'HTTP/2 200 OK\r\n\r\n'],
    ['bare LF', 'HTTP/1.1 200 OK\nX: 1\r\n\r\n'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX: 1\r\n 2\r\n\r\n'],
  ] as const) {
    it(`rejects ${name}`, () => assert.equal(parseResponseHead(b(raw), DEFAULT_HEAD_LIMITS).kind, 'error'));
  }

  it('frames responses per RFC 9112 §6.3', () => {
    const head = (s: string) => {
      const r = parseResponseHead(b(s), DEFAULT_HEAD_LIMITS);
      assert.equal(r.kind, 'head');
      return (r as { head: Parameters<typeof responseFraming>[0] }).head;
    };
    assert.deepEqual(responseFraming(head('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n'), 'GET'), { kind: 'none' });
    assert.deepEqual(responseFraming(head('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'), 'HEAD'), { kind: 'none' });
    assert.deepEqual(responseFraming(head('HTTP/1.1 200 OK\r\n\r\n'), 'GET'), { kind: 'close' });
    assert.deepEqual(responseFraming(head('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), 'POST'), { kind: 'chunked' });
    const bad = responseFraming(head('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n'), 'GET');
    assert.equal('code' in bad && bad.code, 'CL_AND_TE');
  });
});
