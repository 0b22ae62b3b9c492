import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DirectoryEntry } from '../directory/provider.js';
import { compilePolicy, evaluate, type Subject } from './evaluate.js';
import { policySchema } from './policy-schema.js';
import { UserStateStore } from './user-states.js';

const user = (sam: string, groups: string[], enabled = true): Subject => ({
  kind: 'user',
  entry: { key: `LAB\\${sam}`, domain: 'LAB', sam, upn: `${sam}@lab.example`, mail: `${sam}@lab.example`, enabled, groups } satisfies DirectoryEntry,
});

const policy = compilePolicy(
  policySchema.parse({
    rules: [
      { name: 'outlook', effect: 'allow', zones: ['external'], protocols: ['mapi', 'rpc', 'ews'], groups: ['Outlook-Remote'] },
      { name: 'no-rpc-from-kiosk', effect: 'deny', protocols: ['rpc'], clientCidrs: ['198.51.100.0/24'] },
      { name: 'vip', effect: 'allow', protocols: ['eas'], users: ['LAB\\carol'] },
      { name: 'kerb', effect: 'allow', zones: ['external'], protocols: ['autodiscover'], authentication: ['kerberos'] },
    ],
  }),
);

describe('evaluate', () => {
  const states = new UserStateStore({ threshold: 2, window: 60_000, cooldown: 60_000, attemptWait: 5_000, attemptHold: 10_000 });
  const d = (s: Subject, protocol: 'mapi' | 'rpc' | 'ews' | 'eas' | 'autodiscover', zone: 'external' | 'internal', ip = '203.0.113.9') =>
    evaluate(policy, { subject: s, protocol, zone, clientAddress: ip }, states);

  it('allows a group member, naming the rule', () => {
    assert.deepEqual(d(user('alice', ['Outlook-Remote']), 'mapi', 'external'), { allow: true, reasons: ['group-ok'], rule: 'outlook' });
  });
  it('denies a non-member with not-in-group and the zone default', () => {
    assert.deepEqual(d(user('carol', []), 'mapi', 'external'), { allow: false, reasons: ['not-in-group', 'default-deny'] });
  });
  it('applies the internal default (allow)', () => {
    assert.deepEqual(d(user('carol', []), 'mapi', 'internal'), { allow: true, reasons: ['default-allow'] });
  });
  it('deny overrides allow (client range)', () => {
    assert.deepEqual(d(user('alice', ['Outlook-Remote']), 'rpc', 'external', '198.51.100.7'), { allow: false, reasons: ['rule-deny'], rule: 'no-rpc-from-kiosk' });
    assert.equal(d(user('alice', ['Outlook-Remote']), 'rpc', 'external', '::ffff:198.51.100.7').allow, false, 'IPv4-mapped addresses match too');
  });
  it('matches users by key, case-insensitively', () => {
    assert.deepEqual(d(user('Carol', []), 'eas', 'external'), { allow: true, reasons: ['rule-allow'], rule: 'vip' });
  });
  it('a disabled account is never allowed, even inside', () => {
    assert.deepEqual(d(user('alice', ['Outlook-Remote'], false), 'mapi', 'internal'), { allow: false, reasons: ['user-disabled'] });
  });
  it('kerberos: denied by default setting, allowed where policy says allow-unidentified', () => {
    assert.deepEqual(d({ kind: 'kerberos' }, 'autodiscover', 'external'), { allow: false, reasons: ['kerberos-denied'] });
    const p2 = compilePolicy(policySchema.parse({ ...policy.config, kerberos: 'allow-unidentified' }));
    assert.deepEqual(evaluate(p2, { subject: { kind: 'kerberos' }, protocol: 'autodiscover', zone: 'external', clientAddress: '1.1.1.1' }, states), {
      allow: true,
      reasons: ['rule-allow', 'kerberos-unidentified'],
      rule: 'kerb',
    });
  });
  it('unidentified clients fall to the zone default', () => {
    assert.deepEqual(d({ kind: 'unidentified' }, 'ews', 'external'), { allow: false, reasons: ['unidentified', 'default-deny'] });
  });
  it('revocation and external lockout come before rules', () => {
    const s2 = new UserStateStore({ threshold: 2, window: 60_000, cooldown: 60_000, attemptWait: 5_000, attemptHold: 10_000 });
    s2.revoke('LAB\\alice', 'test');
    assert.deepEqual(evaluate(policy, { subject: user('alice', ['Outlook-Remote']), protocol: 'mapi', zone: 'external', clientAddress: '1.1.1.1' }, s2).reasons, ['revoked']);
    s2.recordFailure('LAB\\bob');
    assert.equal(s2.isLockedOut('LAB\\bob'), false);
    assert.equal(s2.recordFailure('lab\\BOB'), true);
    assert.deepEqual(evaluate(policy, { subject: user('bob', ['Outlook-Remote']), protocol: 'mapi', zone: 'external', clientAddress: '1.1.1.1' }, s2).reasons, ['locked-out']);
    assert.equal(evaluate(policy, { subject: user('bob', ['Outlook-Remote']), protocol: 'mapi', zone: 'internal', clientAddress: '1.1.1.1' }, s2).allow, true);
  });
});

describe('UserStateStore time', () => {
  it('forgets failures outside the window and lockouts after the cooldown', () => {
    let now = 0;
    const s = new UserStateStore({ threshold: 2, window: 1000, cooldown: 5000, attemptWait: 5_000, attemptHold: 10_000 }, () => now);
    s.recordFailure('u');
    now = 1500;
    assert.equal(s.recordFailure('u'), false, 'the first failure left the window');
    assert.equal(s.recordFailure('u'), true);
    now = 6499;
    assert.equal(s.isLockedOut('u'), true);
    now = 6501;
    assert.equal(s.isLockedOut('u'), false);
    s.revoke('x', 'r', 100);
    assert.equal(s.isRevoked('X'), true);
    now = 6602;
    assert.equal(s.isRevoked('x'), false);
  });
});
