// Which decision a request's record carries: the refusing gate's, a concealed refusal as the
// denial it is, else the access gate's policy decision (reasons and rule, for allowed requests).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type GateDecisionEvent, events, on } from '../events.js';
import type { ConnectionContext } from './connection-context.js';
import { recordGateDecision, userOf } from './connection-record.js';
import type { GateVerdict } from './gate.js';

const conn = (over: Partial<ConnectionContext> = {}) =>
  ({ id: 7, listener: 'external', zone: 'external', remoteAddress: '198.51.100.4', remotePort: 40000, requests: 1, identity: undefined, pending: undefined, claim: undefined, ...over }) as unknown as ConnectionContext;
const info = { method: 'POST', path: '/ews/exchange.asmx', protocol: 'ews' as const, startedAt: 0 };
const gates = [{ name: 'zone' as const }, { name: 'edge' as const }, { name: 'access' as const }, { name: 'autodiscover' as const }];

function decide(verdicts: GateVerdict[], c = conn()): GateDecisionEvent {
  const seen: GateDecisionEvent[] = [];
  const off = on(events.gateDecision, (e) => seen.push(e));
  recordGateDecision(c, info, gates, verdicts);
  off();
  assert.equal(seen.length, 1);
  return seen[0]!;
}

const cases: Array<[string, GateVerdict[], Pick<GateDecisionEvent, 'gate' | 'allow' | 'concealed'> & { reasons: string[]; rule?: string }]> = [
  ['allowed: the access gate\'s policy decision with its rule', [{ allow: true }, { allow: true }, { allow: true, decision: { allow: true, reasons: ['group-ok'], rule: 'outlook-remote' } }, { allow: true }], { gate: 'access', allow: true, concealed: false, reasons: ['group-ok'], rule: 'outlook-remote' }],
  ['refused by the zone gate', [{ allow: false, status: 403, reason: 'protocol-blocked-in-zone', message: 'x' }], { gate: 'zone', allow: false, concealed: false, reasons: ['protocol-blocked-in-zone'] }],
  ['refused by the edge with every reason', [{ allow: true }, { allow: false, status: 403, reason: 'exploit-shape:proxylogon-ecp', reasons: ['exploit-shape:proxylogon-ecp'], message: 'x' }], { gate: 'edge', allow: false, concealed: false, reasons: ['exploit-shape:proxylogon-ecp'] }],
  ['a concealed refusal is a denial on the record', [{ allow: true }, { allow: true }, { allow: true, concealed: { reasons: ['unknown-user', 'default-deny'] } }, { allow: true }], { gate: 'access', allow: false, concealed: true, reasons: ['unknown-user', 'default-deny'] }],
  ['refused by Autodiscover after the access gate allowed', [{ allow: true }, { allow: true }, { allow: true, decision: { allow: true, reasons: ['group-ok'] } }, { allow: false, status: 400, reason: 'protocol-not-allowed', message: 'x' }], { gate: 'autodiscover', allow: false, concealed: false, reasons: ['protocol-not-allowed'] }],
  ['allowed without any decision (an anonymous endpoint)', [{ allow: true }, { allow: true }, { allow: true }, { allow: true }], { gate: 'autodiscover', allow: true, concealed: false, reasons: [] }],
];

for (const [name, verdicts, want] of cases) {
  test(name, () => {
    const e = decide(verdicts);
    assert.equal(e.gate, want.gate);
    assert.equal(e.allow, want.allow);
    assert.equal(e.concealed, want.concealed);
    assert.deepEqual(e.decision.reasons, want.reasons);
    assert.equal(e.decision.rule, want.rule);
    assert.equal(e.clientIp, '198.51.100.4');
    assert.equal(e.clientPort, 40000);
  });
}

test('the user on the record: proven, else pending, else the claim (a denial before the password was checked)', () => {
  const entry = (key: string) => ({ key }) as never;
  assert.equal(userOf(conn({ identity: { kind: 'user', entry: entry('LAB\\alice'), via: 'NTLM', at: 0 } })), 'LAB\\alice');
  assert.equal(userOf(conn({ pending: { kind: 'kerberos', via: 'Kerberos', at: 0 } })), 'kerberos');
  assert.equal(userOf(conn({ claim: { claimed: 'LAB\\carol', user: 'LAB\\carol', scheme: 'NTLM' } })), 'LAB\\carol');
  assert.equal(userOf(conn({ claim: { claimed: 'LAB\\nobody', user: undefined, scheme: 'NTLM' } })), 'LAB\\nobody');
  assert.equal(userOf(conn()), undefined);
});

test('nothing is built when nobody subscribes', () => {
  let built = 0;
  const verdicts = new Proxy([] as GateVerdict[], { get: (t, p) => (p === 'length' && built++, Reflect.get(t, p)) });
  recordGateDecision(conn(), info, gates, verdicts);
  assert.equal(built, 0);
});
