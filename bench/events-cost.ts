// What the events seam costs per request: the publish calls one allowed request makes (request
// start, gate decision, request end), with nobody subscribed and with a no-op subscriber on every
// channel. `node --import tsx bench/events-cost.ts`
import { events } from '../src/events.js';
import { startMetrics } from '../src/metrics/gateway-metrics.js';
import { recordGateDecision, recordExchangeEnd, recordRequestStarted } from '../src/forward/connection-record.js';
import type { ConnectionContext } from '../src/forward/connection-context.js';
import type { Exchange } from '../src/forward/exchange.js';
import type { GateVerdict } from '../src/forward/gate.js';

const conn = {
  id: 1, listener: 'external', zone: 'external', remoteAddress: '203.0.113.7', remotePort: 50000, servername: 'mail.example.com', openedAt: Date.now(),
  identity: undefined, pending: undefined, lastProtocol: 'mapi', requests: 1, bytesFromClient: 0, bytesToClient: 0,
  current: { method: 'POST', path: '/mapi/emsmdb/', protocol: 'mapi', startedAt: Date.now() }, claim: { claimed: 'LAB\\alice', user: 'LAB\\alice', scheme: 'NTLM' },
  close() {},
} as unknown as ConnectionContext;
const gates = [{ name: 'zone' as const }, { name: 'edge' as const }, { name: 'access' as const }, { name: 'autodiscover' as const }];
const verdicts: GateVerdict[] = [{ allow: true }, { allow: true }, { allow: true, decision: { allow: true, reasons: ['group-ok'], rule: 'outlook-remote' } }, { allow: true }];
const ex = { info: conn.current, request: { transferred: 1200 }, response: { transferred: 4800 }, concealed: undefined } as unknown as Exchange;

function run(n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    recordRequestStarted(conn, conn.current!);
    recordGateDecision(conn, conn.current!, gates, verdicts);
    recordExchangeEnd(conn, ex, 200, undefined, undefined);
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

const N = 2_000_000;
run(N); // warm up
const none = run(N);
const noop = () => {};
for (const ch of Object.values(events)) (ch as { subscribe(f: () => void): void }).subscribe(noop);
run(N / 10);
const subscribed = run(N / 4);
const metrics = startMetrics({ processMetrics: false });
run(N / 10);
const counted = run(N / 4);
metrics.close();
console.log(`events per request (start + decision + end): ${none.toFixed(1)} ns with no subscriber, ${subscribed.toFixed(0)} ns with a no-op subscriber on every channel, ${counted.toFixed(0)} ns with the metrics subscriber too`);
