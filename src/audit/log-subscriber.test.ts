// The request log lines are a subscriber: what the events carry reaches the line, client address
// and claimed user included, and unsubscribing stops it.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { events } from '../events.js';
import { subscribeLog } from './log-subscriber.js';

function capture(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

const ref = { connection: 3, listener: 'external', zone: 'external' as const, clientIp: '203.0.113.9', clientPort: 51000, at: 0 };

test('a concealed refusal line names the client, the claimed user, the reasons and the reference id', async () => {
  const { log, lines } = capture();
  const off = subscribeLog(log);
  events.requestEnded.publish({ ...ref, request: 2, method: 'POST', path: '/ews/exchange.asmx', protocol: 'ews', user: 'LAB\\carol', status: 401, reasons: ['not-in-group', 'default-deny'], refused: false, concealed: true, detail: 'claimed LAB\\carol', ref: 'abc123', requestBytes: 0, responseBytes: 58, durationMs: 12.4 });
  off();
  events.requestEnded.publish({ ...ref, request: 3, method: 'GET', path: '/owa/', protocol: 'owa', user: undefined, status: 200, reasons: [], refused: false, concealed: false, detail: undefined, ref: undefined, requestBytes: 0, responseBytes: 10, durationMs: 1 });
  await new Promise((r) => setImmediate(r));
  assert.equal(lines.length, 1, 'nothing after unsubscribing');
  const l = lines[0]!;
  assert.equal(l['msg'], 'request refused (client sees an anonymous answer)');
  assert.equal(l['client'], '203.0.113.9');
  assert.equal(l['clientPort'], 51000);
  assert.equal(l['user'], 'LAB\\carol');
  assert.equal(l['reason'], 'not-in-group, default-deny');
  assert.equal(l['ref'], 'abc123');
  assert.equal(l['resBytes'], 58);
});

test('a revocation line keeps the actor and the reason text', async () => {
  const { log, lines } = capture();
  const off = subscribeLog(log);
  events.userRevoked.publish({ at: 0, user: 'LAB\\bob', actor: 'admin:jdoe', reason: 'laptop stolen', until: undefined, connectionsClosed: 2 });
  off();
  await new Promise((r) => setImmediate(r));
  assert.equal(lines[0]!['reason'], 'laptop stolen');
  assert.equal(lines[0]!['actor'], 'admin:jdoe');
  assert.equal(lines[0]!['closed'], 2);
});
