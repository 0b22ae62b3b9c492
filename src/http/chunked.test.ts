import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkedDecoder } from './chunked.js';

const b = (s: string) => Buffer.from(s, 'latin1');

function decodeAll(parts: Buffer[]): { data: string; done: boolean; consumed: number; error?: string } {
  const d = new ChunkedDecoder();
  let data = '';
  let consumed = 0;
  for (const p of parts) {
    const r = d.push(p);
    data += Buffer.concat(r.data).toString('latin1');
    consumed += r.consumed;
    if (r.error) return { data, done: false, consumed, error: r.error.code };
    if (r.done) return { data, done: true, consumed };
  }
  return { data, done: false, consumed };
}

describe('ChunkedDecoder', () => {
  const body = 'B\r\nPROCESSING\n\r\n8;ext=1;q="a b"\r\nPENDING\n\r\n0\r\nX-Trailer: v\r\n\r\nNEXT';

  it('decodes MAPI-style chunks with extensions and a trailer, leaving the next message', () => {
    const r = decodeAll([b(body)]);
    assert.deepEqual(r, { data: 'PROCESSING\nPENDING\n', done: true, consumed: body.length - 4 });
  });

  it('gives the same result at every split point', () => {
    const whole = b(body);
    for (let i = 0; i <= whole.length; i++) {
      const r = decodeAll([whole.subarray(0, i), whole.subarray(i)]);
      assert.equal(r.data, 'PROCESSING\nPENDING\n', `split at ${i}`);
      assert.equal(r.done, true);
      assert.equal(r.consumed, body.length - 4);
    }
  });

  it('gives the same result fed one byte at a time', () => {
    const whole = b(body);
    const r = decodeAll([...whole].map((x) => Buffer.from([x])));
    assert.equal(r.data, 'PROCESSING\nPENDING\n');
  });

  for (const [name, raw, code] of [
    ['non-hex size', 'Z\r\n', 'BAD_CHUNK_SIZE'],
    ['empty size', '\r\n', 'BAD_CHUNK_SIZE'],
    ['negative size', '-1\r\n', 'BAD_CHUNK_SIZE'],
    ['size with LF only', '5\nhello\r\n', 'BAD_CHUNK_SIZE'],
    ['bare CR in size line', '5\rX\r\n', 'BAD_CHUNK_SIZE'],
    ['too many digits', '00000000000000001\r\n', 'BAD_CHUNK_SIZE'],
    ['space inside size', '1 0\r\n', 'BAD_CHUNK_SIZE'],
    ['data without CRLF', '3\r\nabcX\r\n', 'BAD_CHUNK_DATA'],
    ['bad extension', '3;=x\r\nabc\r\n', 'BAD_CHUNK_SIZE'],
    ['obs-fold trailer', '0\r\nX: 1\r\n 2\r\n\r\n', 'BAD_TRAILER'],
    ['trailer without colon', '0\r\nXY\r\n\r\n', 'BAD_TRAILER'],
  ] as const) {
    it(`rejects ${name}`, () => assert.equal(decodeAll([b(raw)]).error, code));
  }
});
