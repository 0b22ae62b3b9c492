import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupFindings, renderHtml, renderText } from './render.js';
import type { DoctorReport } from './run.js';
import { looksLikeH2 } from './checks-path.js';
import { shortTlsError } from './tls-probe.js';

const report: DoctorReport = {
  url: 'https://mail.example.com',
  startedAt: '2026-12-01T00:00:00Z',
  status: 'fail',
  exitCode: 2,
  results: [
    { group: 'Outlook Anywhere', title: 'RPC proxy echo', status: 'fail', evidence: [], ms: 1, findings: [{ id: 'RPC-ECHO-FAILED', detail: 'port 6001: 503' }, { id: 'RPC-ECHO-FAILED', detail: 'port 6002: 503' }, { id: 'RPC-ECHO-FAILED', detail: 'port 6004: 503' }] },
    { group: 'Outlook Anywhere', title: 'RTS handshake', status: 'fail', evidence: [], ms: 1, findings: [{ id: 'RPC-ECHO-FAILED', detail: 'again' }] },
  ],
};

describe('render', () => {
  it('tells a cause and its fix once, however many ports or checks repeat it', () => {
    const text = renderText(report);
    assert.equal(text.match(/cause: /g)?.length, 1);
    assert.match(text, /\[RPC-ECHO-FAILED\] .*: port 6001: 503; port 6002: 503; port 6004: 503/);
    assert.match(text, /\(cause and fix: see above\)/);
    assert.equal(renderHtml(report).match(/<div class="finding">/g)?.length, 2);
  });
  it('groups findings by id, keeping the order and dropping repeated details', () => {
    assert.deepEqual(groupFindings([{ id: 'A', detail: '1' }, { id: 'B', detail: 'x' }, { id: 'A', detail: '2' }, { id: 'A', detail: '1' }]), [{ id: 'A', details: ['1', '2'] }, { id: 'B', details: ['x'] }]);
  });
});

describe('probe helpers', () => {
  it('shortTlsError keeps OpenSSL\'s reason, drops the source lines', () => {
    assert.equal(shortTlsError('0063A29CB67F0000:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 70\n'), 'tlsv1 alert protocol version (alert 70)');
    assert.equal(shortTlsError('0063A29CB67F0000:error:0A000102:SSL routines:ssl_choose_client_version:unsupported protocol:../deps/openssl/openssl/ssl/statem/statem_lib.c:2407:\n'), 'unsupported protocol');
    assert.equal(shortTlsError('connect ECONNREFUSED 127.0.0.1:443'), 'connect ECONNREFUSED 127.0.0.1:443');
  });
  it('looksLikeH2 recognises a SETTINGS or GOAWAY frame, not an HTTP/1.1 status line', () => {
    assert.ok(looksLikeH2(Buffer.from('000006040000000000000300000064', 'hex')));
    assert.ok(looksLikeH2(Buffer.from('000008070000000000000000000000000001', 'hex')));
    assert.ok(!looksLikeH2(Buffer.from('HTTP/1.1 200 OK\r\n')));
    assert.ok(!looksLikeH2(Buffer.from('0000', 'hex')));
  });
});
