// Inputs found by `npm run fuzz` (fuzz/targets/request-head.ts, response-head.ts): framing must
// accept exactly the token "chunked" (OWS aside), never a value that becomes it after trim().
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestFraming, responseFraming } from './framing.js';
import { DEFAULT_HEAD_LIMITS } from './head-scan.js';
import { parseRequestHead } from './request-head.js';
import { parseResponseHead } from './response-head.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('Transfer-Encoding is exactly chunked', () => {
  const requests: Array<[string, string, string | object]> = [
    // reduced from the request-head finding below: NBSP (0xA0) before the token
    ['NBSP before chunked', 'Transfer-Encoding:\xa0chunked', 'BAD_TRANSFER_ENCODING'],
    ['NBSP after chunked', 'Transfer-Encoding: chunked\xa0', 'BAD_TRANSFER_ENCODING'],
    ['NBSP on both sides', 'Transfer-Encoding: \xa0chunked\xa0', 'BAD_TRANSFER_ENCODING'],
    ['upper case', 'Transfer-Encoding: CHUNKED', { kind: 'chunked' }],
    ['no OWS', 'Transfer-Encoding:chunked', { kind: 'chunked' }],
    ['tab OWS', 'Transfer-Encoding:\tchunked\t', { kind: 'chunked' }],
  ];
  for (const [name, field, want] of requests) {
    it(`request: ${name}`, () => {
      const r = parseRequestHead(b(`POST / HTTP/1.1\r\nHost: h\r\n${field}\r\n\r\n`), DEFAULT_HEAD_LIMITS);
      assert.equal(r.kind, 'head');
      if (r.kind !== 'head') return;
      const f = requestFraming(r.head);
      if (typeof want === 'string') assert.equal('code' in f && f.code, want);
      else assert.deepEqual(f, want);
    });
  }

  it('the input npm run fuzz found (request-head), byte for byte', () => {
    const raw = Buffer.from(
      '5250435f494e5f44415441202f7270632f72706370726f78792e646c6c3b3b3b3b3b3b3b3b3b3b3b3b3b3f4558434830313a3630793120485454502f312e310d0a486f73743a20780d0a436f6e74656e744c656e6774683a20313037333734313832340d0a5472616e736665722d456e636f64696e673aa06368756e6b65640d0a0d0a',
      'hex',
    );
    const r = parseRequestHead(raw, DEFAULT_HEAD_LIMITS);
    assert.equal(r.kind, 'head');
    if (r.kind !== 'head') return;
    const f = requestFraming(r.head);
    assert.equal('code' in f && f.code, 'BAD_TRANSFER_ENCODING');
  });

  it('response: NBSP around chunked is refused, as upstream framing must be unambiguous too', () => {
    // reduced from the response-head finding: "HTTP/1.1 200 OK\r\nTransfer-Encoding:\xa0chunked\r\n..."
    for (const field of ['Transfer-Encoding:\xa0chunked', 'Transfer-Encoding: chunked\xa0']) {
      const r = parseResponseHead(b(`HTTP/1.1 200 OK\r\n${field}\r\n\r\n`), DEFAULT_HEAD_LIMITS);
      assert.equal(r.kind, 'head');
      if (r.kind !== 'head') return;
      const f = responseFraming(r.head, 'GET');
      assert.equal('code' in f && f.code, 'BAD_TRANSFER_ENCODING');
    }
  });
});
