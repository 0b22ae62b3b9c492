import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_HEAD_LIMITS } from './head-scan.js';
import { requestFraming } from './framing.js';
import { parseRequestHead } from './request-head.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('parseRequestHead', () => {
  it('parses RPC_IN_DATA with a 1 GiB Content-Length, keeping header case and order', () => {
    const raw = 'RPC_IN_DATA /rpc/rpcproxy.dll?EXCH01:593 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nUser-Agent: MSRPC\r\nContent-Length: 1073741824\r\n\r\nBODY';
    const r = parseRequestHead(b(raw), DEFAULT_HEAD_LIMITS);
    assert.equal(r.kind, 'head');
    if (r.kind !== 'head') return;
    assert.equal(r.head.method, 'RPC_IN_DATA');
    assert.equal(r.head.target, '/rpc/rpcproxy.dll?EXCH01:593');
    assert.deepEqual(r.head.headers.map((h) => h.name), ['Host', 'User-Agent', 'Content-Length']);
    assert.equal(r.consumed, raw.length - 4);
    assert.deepEqual(requestFraming(r.head), { kind: 'length', length: 1073741824 });
  });

  it('is incomplete at every split point of a valid head, then complete', () => {
    const raw = b('POST /mapi/emsmdb/?MailboxId=x@lab.example HTTP/1.1\r\nHost: h\r\nX-RequestType: Connect\r\nContent-Length: 5\r\n\r\n');
    for (let i = 0; i < raw.length; i++) {
      const r = parseRequestHead(raw.subarray(0, i), DEFAULT_HEAD_LIMITS);
      assert.equal(r.kind, 'incomplete', `split at ${i}`);
    }
    let resume = 0;
    for (let i = 1; i < raw.length; i++) {
      const r = parseRequestHead(raw.subarray(0, i), DEFAULT_HEAD_LIMITS, resume);
      if (r.kind === 'incomplete') resume = r.resumeAt;
    }
    const full = parseRequestHead(raw, DEFAULT_HEAD_LIMITS, resume);
    assert.equal(full.kind, 'head');
  });

  it('accepts HTTP/1.0 without Host and skips leading empty lines', () => {
    const r = parseRequestHead(b('\r\nGET / HTTP/1.0\r\n\r\n'), DEFAULT_HEAD_LIMITS);
    assert.equal(r.kind, 'head');
  });

  const rejected: Array<[string, string, string]> = [
    ['bare CR in a header', 'GET / HTTP/1.1\r\nHost: h\rX: 1\r\n\r\n', 'BARE_CR'],
    ['bare LF line end', 'GET / HTTP/1.1\nHost: h\r\n\r\n', 'BARE_LF'],
    ['NUL in a value', 'GET / HTTP/1.1\r\nHost: h\0x\r\n\r\n', 'NUL_BYTE'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  continued\r\n\r\n', 'OBS_FOLD'],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : h\r\n\r\n', 'WHITESPACE_BEFORE_COLON'],
    ['tab before colon', 'GET / HTTP/1.1\r\nHost\t: h\r\n\r\n', 'WHITESPACE_BEFORE_COLON'],
    ['empty header name', 'GET / HTTP/1.1\r\n: h\r\n\r\n', 'BAD_HEADER_NAME'],
    ['no colon', 'GET / HTTP/1.1\r\nHosth\r\n\r\n', 'BAD_HEADER_NAME'],
    ['control char in value', 'GET / HTTP/1.1\r\nHost: h\x01\r\n\r\n', 'BAD_HEADER_VALUE'],
    ['missing Host on 1.1', 'GET / HTTP/1.1\r\n\r\n', 'MISSING_HOST'],
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'DUPLICATE_HOST'],
    ['method not a token', 'G(T / HTTP/1.1\r\nHost: h\r\n\r\n', 'BAD_METHOD'],
    ['method longer than 32 bytes', `${'A'.repeat(33)} / HTTP/1.1\r\nHost: h\r\n\r\n`, 'BAD_METHOD'],
    ['absolute-form target', 'GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n', 'BAD_TARGET'],
    ['fragment in target', 'GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n', 'BAD_TARGET'],
    ['obs-text in target', 'GET /\xe9 HTTP/1.1\r\nHost: h\r\n\r\n', 'BAD_TARGET'],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', 'UNSUPPORTED_VERSION'],
    ['lower-case version', 'GET / http/1.1\r\nHost: h\r\n\r\n', 'BAD_REQUEST_LINE'],
    ['three spaces', 'GET / x HTTP/1.1\r\nHost: h\r\n\r\n', 'BAD_REQUEST_LINE'],
    ['double space', 'GET  / HTTP/1.1\r\nHost: h\r\n\r\n', 'BAD_REQUEST_LINE'],
  ];
  for (const [name, raw, code] of rejected) {
    it(`rejects ${name} (${code})`, () => {
      const r = parseRequestHead(b(raw), DEFAULT_HEAD_LIMITS);
      assert.equal(r.kind, 'error');
      if (r.kind === 'error') assert.equal(r.error.code, code);
    });
  }

  it('rejects a head over the size limit even without its terminator', () => {
    const limits = { maxHeadBytes: 1024, maxHeaders: 100 };
    const r = parseRequestHead(b('GET / HTTP/1.1\r\nX: ' + 'a'.repeat(2000)), limits);
    assert.equal(r.kind === 'error' && r.error.code, 'HEAD_TOO_LARGE');
  });

  it('rejects more header fields than allowed', () => {
    const lines = Array.from({ length: 11 }, (_, i) => `X-${i}: 1\r\n`).join('');
    const r = parseRequestHead(b(`GET / HTTP/1.1\r\nHost: h\r\n${lines}\r\n`), { maxHeadBytes: 65536, maxHeaders: 10 });
    assert.equal(r.kind === 'error' && r.error.code, 'TOO_MANY_HEADERS');
  });
});

describe('requestFraming', () => {
  const head = (headers: string, version = '1.1') => {
    const r = parseRequestHead(b(`POST / HTTP/${version}\r\nHost: h\r\n${headers}\r\n`), DEFAULT_HEAD_LIMITS);
    assert.equal(r.kind, 'head');
    return (r as { head: Parameters<typeof requestFraming>[0] }).head;
  };
  const cases: Array<[string, string, string | object, string?]> = [
    ['CL and TE together', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', 'CL_AND_TE'],
    ['repeated CL', 'Content-Length: 5\r\nContent-Length: 5\r\n', 'DUPLICATE_CONTENT_LENGTH'],
    ['CL list', 'Content-Length: 5, 5\r\n', 'BAD_CONTENT_LENGTH'],
    ['signed CL', 'Content-Length: +5\r\n', 'BAD_CONTENT_LENGTH'],
    ['hex CL', 'Content-Length: 0x10\r\n', 'BAD_CONTENT_LENGTH'],
    ['CL above 2^31', 'Content-Length: 2147483649\r\n', 'CONTENT_LENGTH_TOO_LARGE'],
    ['TE gzip', 'Transfer-Encoding: gzip, chunked\r\n', 'BAD_TRANSFER_ENCODING'],
    ['TE twice', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', 'BAD_TRANSFER_ENCODING'],
    ['TE identity', 'Transfer-Encoding: identity\r\n', 'BAD_TRANSFER_ENCODING'],
    ['TE in HTTP/1.0', 'Transfer-Encoding: chunked\r\n', 'TE_IN_HTTP10', '1.0'],
    ['CL exactly 2^31', 'Content-Length: 2147483648\r\n', { kind: 'length', length: 2147483648 }],
    ['chunked', 'Transfer-Encoding: chunked\r\n', { kind: 'chunked' }],
    ['CL 0', 'Content-Length: 0\r\n', { kind: 'none' }],
    ['no body', '', { kind: 'none' }],
  ];
  for (const [name, headers, want, version] of cases) {
    it(name, () => {
      const f = requestFraming(head(headers, version));
      if (typeof want === 'string') assert.equal('code' in f && f.code, want);
      else assert.deepEqual(f, want);
    });
  }
});
