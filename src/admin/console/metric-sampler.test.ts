import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricSampler, increase, rates, sampleOf } from './metric-sampler.js';

const expo = (req: number, deny: number, lock: number, pinned: number) => `portcullis_requests_total{protocol="mapi",zone="external",decision="allow",reason=""} ${req}
portcullis_requests_total{protocol="rpc",zone="external",decision="deny",reason="not-in-group"} ${deny}
portcullis_lockouts_total ${lock}
portcullis_client_connections{listener="external",zone="external"} ${pinned + 1}
portcullis_pinned_pairs{protocol="mapi",zone="external"} ${pinned}
`;

describe('console metric sampler', () => {
  it('reduces an exposition to the Overview numbers', () => {
    const s = sampleOf(1000, expo(10, 2, 1, 3));
    assert.equal(s.requests, 12);
    assert.deepEqual(s.denials, { 'not-in-group': 2 });
    assert.equal(s.connections, 4);
    assert.deepEqual(s.pinnedByProtocol, { mapi: 3 });
  });
  it('rates per second and increases over the window; old samples fall out', async () => {
    const m = new MetricSampler(async () => ({ contentType: 'text/plain', text: '' }), 5000, 10_000);
    m.add(sampleOf(0, expo(0, 0, 0, 0)));
    m.add(sampleOf(5000, expo(50, 5, 1, 1)));
    m.add(sampleOf(10_000, expo(60, 15, 3, 2)));
    assert.deepEqual(rates(m.all, (s) => s.requests), [{ at: 5000, v: 11 }, { at: 10_000, v: 4 }]);
    assert.deepEqual(increase(m.all, (s) => s.denials), { 'not-in-group': 15 });
    m.add(sampleOf(15_001, expo(60, 15, 3, 2)));
    assert.equal(m.all[0]!.at, 10_000);
  });
});
