import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { type ConnectionRef, type GateDecisionEvent, type RequestEndedEvent, events } from '../events.js';
import type { RecordInput } from './audit-record.js';
import type { AuditLevel } from './audit-schema.js';
import { subscribeAuditRecorder } from './audit-recorder.js';

const AT = Date.UTC(2026, 11, 1, 8);
const conn = (connection: number): ConnectionRef => ({ connection, listener: 'external', zone: 'external', clientIp: '198.51.100.7', clientPort: 50000 + connection, at: AT });

function gate(connection: number, allow: boolean, reasons: string[], rule?: string, user = 'LAB\\carol', concealed = false): GateDecisionEvent {
  return { ...conn(connection), request: 1, method: 'POST', path: '/ews/exchange.asmx', protocol: 'ews', allow, gate: 'access', decision: { allow, reasons, rule } as never, concealed, user, scheme: 'NTLM' };
}

function ended(connection: number, o: Partial<RequestEndedEvent> = {}): RequestEndedEvent {
  return {
    ...conn(connection),
    request: 1,
    method: 'POST',
    path: '/ews/exchange.asmx',
    protocol: 'ews',
    user: undefined,
    status: 200,
    reasons: [],
    refused: false,
    concealed: false,
    detail: undefined,
    ref: undefined,
    requestBytes: 100,
    responseBytes: 200,
    durationMs: 5,
    ...o,
  };
}

let off: (() => void) | undefined;
afterEach(() => off?.());

function recorder(level: AuditLevel = 'decisions') {
  const got: RecordInput[] = [];
  off = subscribeAuditRecorder({ record: (r) => got.push(r) }, () => level);
  return got;
}

describe('audit recorder', () => {
  it('a concealed denial before the password was checked: claimed user, scheme, reasons, ref', () => {
    const got = recorder();
    events.gateDecision.publish(gate(1, true, ['not-in-group', 'default-deny'], undefined, 'LAB\\carol', true));
    events.requestEnded.publish(ended(1, { user: 'LAB\\carol', status: 401, concealed: true, reasons: ['not-in-group', 'default-deny'] as never, ref: '5ff0834b4632', detail: 'claimed LAB\\carol' }));
    assert.equal(got.length, 1);
    assert.deepEqual(
      { ...got[0] },
      {
        ts: AT, clientIp: '198.51.100.7', clientPort: 50001, zone: 'external', listener: 'external', connection: 1,
        event: 'denied', decision: 'deny', user: 'LAB\\carol', scheme: 'ntlm', protocol: 'ews', method: 'POST', path: '/ews/exchange.asmx',
        status: 401, reasons: ['not-in-group', 'default-deny'], rule: undefined, ref: '5ff0834b4632', durationMs: 5, bytesIn: 100, bytesOut: 200,
        text: undefined, cause: 'concealed',
      },
    );
  });

  it('allowed requests: nothing at level decisions, one record each at level requests with the rule', () => {
    let got = recorder('decisions');
    events.gateDecision.publish(gate(2, true, ['group-ok'], 'outlook-remote', 'LAB\\alice'));
    events.requestEnded.publish(ended(2, { user: 'LAB\\alice' }));
    assert.equal(got.length, 0);
    off!();
    got = recorder('requests');
    events.gateDecision.publish(gate(2, true, ['group-ok'], 'outlook-remote', 'LAB\\alice'));
    events.requestEnded.publish(ended(2, { user: 'LAB\\alice' }));
    assert.deepEqual([got[0]!.event, got[0]!.decision, got[0]!.rule, got[0]!.reasons], ['request', 'allow', 'outlook-remote', ['group-ok']]);
  });

  it('an upstream failure is not a denial', () => {
    const got = recorder();
    events.requestEnded.publish(ended(3, { status: 503, refused: true, reasons: ['upstream-refused'] as never }));
    assert.equal(got.length, 0);
    events.requestEnded.publish(ended(3, { status: 400, refused: true, reasons: ['bad-request'] as never }));
    assert.equal(got[0]!.event, 'denied');
  });

  it('identity binding carries why it was allowed; close of an identified connection; anonymous closes skipped', () => {
    const got = recorder();
    events.gateDecision.publish(gate(4, true, ['group-ok'], 'outlook-remote', 'LAB\\alice'));
    events.identityBound.publish({ ...conn(4), claimedUser: 'LAB\\alice', user: 'LAB\\alice', scheme: 'NTLM', outcome: 'bound', protocol: 'mapi', reasons: [] });
    const closed = { ...conn(4), sni: 'mail.lab.example', tlsVersion: 'TLSv1.3', tlsCipher: 'x', cause: 'client-closed', detail: undefined, proven: true, scheme: 'NTLM', protocol: 'mapi', requests: 12, bytesIn: 1000, bytesOut: 90000, durationMs: 4000, pinned: { protocol: 'mapi' } } as const;
    events.connectionClosed.publish({ ...closed, user: 'LAB\\alice' });
    events.connectionClosed.publish({ ...closed, connection: 5, user: undefined });
    assert.deepEqual(got.map((r) => [r.event, r.user, r.rule, r.reasons, r.cause, r.requests]), [
      ['identity-bound', 'LAB\\alice', 'outlook-remote', ['group-ok'], undefined, undefined],
      ['connection-closed', 'LAB\\alice', undefined, undefined, 'client-closed', 12],
    ]);
  });

  it('state changes: revoke with actor and reason text, lockout, unlock, reload, refused reload', () => {
    const got = recorder();
    events.userRevoked.publish({ at: AT, user: 'LAB\\bob', actor: 'admin', reason: 'left the company', until: undefined, connectionsClosed: 1 });
    events.userLocked.publish({ at: AT, user: 'LAB\\dave', actor: 'smart-lockout', failures: 5, until: AT + 900_000, connectionsClosed: 0 });
    events.userUnlocked.publish({ at: AT, user: 'LAB\\dave', actor: 'admin' });
    events.configReloaded.publish({ at: AT, trigger: 'signal', durationMs: 12, connectionsClosed: 2 });
    events.reloadRefused.publish({ at: AT, trigger: 'watch', stage: 'config', problems: ['portcullis.yaml:3:5: bad'] });
    assert.deepEqual(got.map((r) => [r.event, r.user, r.actor, r.text]), [
      ['revoked', 'LAB\\bob', 'admin', 'left the company'],
      ['locked-out', 'LAB\\dave', 'smart-lockout', undefined],
      ['unlocked', 'LAB\\dave', 'admin', undefined],
      ['reload', undefined, 'signal', undefined],
      ['reload-refused', undefined, 'watch', 'portcullis.yaml:3:5: bad'],
    ]);
    assert.match(got[0]!.cause!, /1 connection\(s\) closed/);
    events.drain.publish({ at: AT, phase: 'started', connections: 3, deadlineMs: 30_000 });
    assert.deepEqual([got.at(-1)!.event, got.at(-1)!.cause], ['drain', 'started: 3 connection(s) open, deadline 30000 ms']);
    events.secondFactorReset.publish({ at: AT, user: 'LAB\alice', actor: 'admin:root', totp: true, passkeys: 2 });
    assert.deepEqual([got.at(-1)!.event, got.at(-1)!.user, got.at(-1)!.actor, got.at(-1)!.cause], ['2fa-reset', 'LAB\alice', 'admin:root', 'TOTP, 2 passkey(s) forgotten']);
  });

  it('a failed login keeps the claimed user and the outcome (password spray)', () => {
    const got = recorder();
    events.loginFailed.publish({ ...conn(6), claimedUser: 'LAB\\alice', user: 'LAB\\alice', scheme: 'NTLM', outcome: 'bad-password', protocol: 'ews', reasons: ['bad-password'] as never });
    assert.deepEqual([got[0]!.event, got[0]!.user, got[0]!.cause, got[0]!.clientIp], ['login-failed', 'LAB\\alice', 'bad-password', '198.51.100.7']);
  });

  it('a login failure the gateway refused is one denied record, not two', () => {
    const got = recorder();
    events.loginFailed.publish({ ...conn(7), claimedUser: 'LAB\\nobody', user: undefined, scheme: 'Basic', outcome: 'unknown-user', protocol: 'owa', reasons: ['unknown-user'] as never });
    events.requestEnded.publish(ended(7, { status: 401, concealed: true, reasons: ['unknown-user'] as never, ref: 'r7' }));
    assert.deepEqual(got.map((r) => [r.event, r.user, r.scheme, r.reasons]), [['denied', 'LAB\\nobody', 'basic', ['unknown-user']]]);
    // …but one whose request was not refused after all is still on the record.
    events.loginFailed.publish({ ...conn(8), claimedUser: 'LAB\\x', user: undefined, scheme: 'NTLM', outcome: 'malformed', protocol: 'owa', reasons: [] });
    events.requestEnded.publish(ended(8, { status: 401 }));
    assert.deepEqual(got.slice(1).map((r) => [r.event, r.user, r.cause]), [['login-failed', 'LAB\\x', 'malformed']]);
  });
});
