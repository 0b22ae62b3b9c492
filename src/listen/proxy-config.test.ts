// The listener settings of issue #13 in the config schema: PROXY protocol needs its sources, and no
// setting may trust every address.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema } from '../config/schema.js';

const withListener = (extra: Record<string, unknown>) =>
  configSchema.safeParse({ listeners: [{ port: 443, tls: { certificates: [{ cert: 'a.crt', key: 'a.key' }] }, ...extra }], upstream: { url: 'https://exch01' } });
const problems = (r: ReturnType<typeof withListener>) => (r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));

describe('listener proxy settings', () => {
  it('defaults: no PROXY protocol, X-Forwarded-For not believed, a 3 s header time-out', () => {
    const r = withListener({});
    assert.ok(r.success);
    const l = r.data.listeners[0]!;
    assert.deepEqual([l.proxyProtocol, l.proxySources, l.forwardedFor, l.proxyHeaderTimeout], [false, [], undefined, 3_000]);
  });
  it('proxyProtocol without proxySources is refused with a line saying what is missing', () => {
    assert.deepEqual(problems(withListener({ proxyProtocol: true })), ['listeners.0.proxySources: proxyProtocol needs proxySources: the load balancer addresses allowed to send the PROXY header']);
    assert.ok(withListener({ proxyProtocol: true, proxySources: ['10.0.0.10/32', 'fd00::10'] }).success);
  });
  it('a /0 range is refused as a PROXY source or a trusted proxy', () => {
    assert.match(problems(withListener({ proxyProtocol: true, proxySources: ['0.0.0.0/0'] })).join(), /proxySources\.0: a \/0 range trusts every address/);
    assert.match(problems(withListener({ forwardedFor: { trustedProxies: ['::/0'] } })).join(), /trustedProxies\.0: a \/0 range/);
    assert.match(problems(withListener({ forwardedFor: { trustedProxies: [] } })).join(), /trustedProxies/);
    assert.match(problems(withListener({ forwardedFor: { trustedProxies: ['proxy.example'] } })).join(), /not a CIDR range/);
  });
});
