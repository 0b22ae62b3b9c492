import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_STRIPPED_HEADERS, compileHeaderFilter } from './response-headers.js';

const h = (name: string, value = 'v') => ({ name, value });

describe('response header filter (issue #10)', () => {
  const strip = compileHeaderFilter(DEFAULT_STRIPPED_HEADERS)!;

  it('removes Exchange\'s diagnostic headers whatever their case, keeping order and the rest', () => {
    const out = strip([h('Content-Type'), h('x-feserver', 'EXCH01'), h('X-BEServer', 'EXCH01'), h('Set-Cookie'), h('X-CALCULATEDBETARGET', 'exch01.lab.local'), h('X-DiagInfo'), h('X-OWA-Version'), h('Server'), h('X-Powered-By'), h('X-Backend-Diag-Foo')]);
    assert.deepEqual(out?.map((f) => f.name), ['Content-Type', 'Set-Cookie']);
  });

  it('keeps the protocol headers clients need', () => {
    const keep = [h('X-ServerApplication', 'Exchange/15.02.1544.004'), h('MS-Server-ActiveSync', '15.1'), h('X-MS-Diagnostics'), h('WWW-Authenticate', 'NTLM'), h('X-ResponseCode', '0'), h('client-request-id'), h('return-client-request-id'), h('request-id'), h('Serverx')];
    assert.equal(strip(keep), undefined);
  });

  it('allocates nothing when nothing is stripped: the same answer, no copy', () => {
    assert.equal(strip([]), undefined);
    assert.equal(strip([h('Content-Length', '0'), h('Date')]), undefined);
  });

  it('an empty list is no filter at all; a configured list replaces the default', () => {
    assert.equal(compileHeaderFilter([]), undefined);
    const only = compileHeaderFilter(['X-FEServer', 'x-calculated*'])!;
    assert.deepEqual(only([h('X-FEServer'), h('X-BEServer'), h('X-CalculatedFETarget'), h('X-Calc')])?.map((f) => f.name), ['X-BEServer', 'X-Calc']);
  });
});
