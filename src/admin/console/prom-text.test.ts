import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExposition, sumBy } from './prom-text.js';

const TEXT = `# HELP portcullis_requests_total Requests
# TYPE portcullis_requests_total counter
portcullis_requests_total{protocol="mapi",zone="external",decision="allow",reason=""} 7
portcullis_requests_total{protocol="ews",zone="external",decision="deny",reason="not-in-group"} 3
portcullis_requests_total{protocol="rpc",zone="external",decision="deny",reason="not-in-group"} 2
portcullis_requests_total{protocol="rpc",zone="external",decision="deny",reason="weird \\"quoted\\", comma"} 1
portcullis_lockouts_total 4
portcullis_draining 0
`;

describe('Prometheus text exposition', () => {
  it('parses names, labels (escaped quotes and commas) and values', () => {
    const s = parseExposition(TEXT);
    assert.equal(s.length, 6);
    assert.deepEqual(s[3]!.labels, { protocol: 'rpc', zone: 'external', decision: 'deny', reason: 'weird "quoted", comma' });
    assert.equal(s[4]!.value, 4);
  });
  it('sums by a label with a filter', () => {
    const s = parseExposition(TEXT);
    assert.deepEqual(sumBy(s, 'portcullis_requests_total', 'reason', (l) => l['decision'] === 'deny'), { 'not-in-group': 5, 'weird "quoted", comma': 1 });
    assert.deepEqual(sumBy(s, 'portcullis_requests_total', ''), { '': 13 });
  });
});
