import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAuditArgs, parseTime } from './audit-query-args.js';

const NOW = Date.UTC(2026, 11, 1, 9, 0, 0);

describe('portcullis audit arguments', () => {
  it('turns options into a filter', () => {
    const q = parseAuditArgs({ user: ' LAB\\alice ', ip: '2001:db8::1', protocol: 'mapi', decision: 'deny', reason: 'not-in-group', event: 'denied', since: '2h', until: '2026-12-01T08:30:00Z', format: 'csv', limit: '50' }, NOW);
    assert.deepEqual(q, {
      filter: { user: 'LAB\\alice', clientIp: '2001:db8::1', protocol: 'mapi', decision: 'deny', reason: 'not-in-group', event: 'denied', since: NOW - 7_200_000, until: Date.UTC(2026, 11, 1, 8, 30) },
      format: 'csv',
      limit: 50,
    });
    assert.deepEqual(parseAuditArgs({}, NOW).format, 'table');
    assert.equal(parseAuditArgs({ device: 'ApplC39GQ1' }, NOW).filter.device, 'ApplC39GQ1');
  });

  it('relative and absolute times', () => {
    assert.equal(parseTime('--since', '30s', NOW), NOW - 30_000);
    assert.equal(parseTime('--since', '7d', NOW), NOW - 7 * 86_400_000);
    assert.equal(parseTime('--since', '2026-12-01T08:00:00Z', NOW), Date.UTC(2026, 11, 1, 8));
  });

  const bad: Array<[string, Parameters<typeof parseAuditArgs>[0], RegExp]> = [
    ['a decision other than allow or deny', { decision: 'maybe' }, /^--decision must be one of allow, deny, not "maybe"$/],
    ['a device that is no DeviceId', { device: "x' OR 1=1" }, /^--device must be a DeviceId \(1-64 letters, digits, - or _\), not "x' OR 1=1"$/],
    ['an unknown protocol', { protocol: 'smtp' }, /^--protocol must be one of autodiscover, .* not "smtp"$/],
    ['an unknown event', { event: 'login' }, /^--event must be one of denied, /],
    ['an unknown format', { format: 'xml' }, /^--format must be one of table, jsonl, csv, not "xml"$/],
    ['a malformed address', { ip: '10.0.0' }, /^--ip must be an IPv4 or IPv6 address, not "10.0.0"$/],
    ['a time in words', { since: 'yesterday' }, /^--since must be a date and time .* not "yesterday"$/],
    ['an impossible date', { until: '2026-13-45' }, /^--until must be a date and time/],
    ['a range the wrong way round', { since: '1h', until: '2h' }, /^--since must be before --until$/],
    ['a limit of 0', { limit: '0' }, /^--limit must be a whole number of records above 0, not "0"$/],
    ['a fractional limit', { limit: '2.5' }, /^--limit must be a whole number/],
    ['an empty user', { user: '  ' }, /^--user must not be empty$/],
    ['a reason with SQL in it', { reason: "x' OR 1=1" }, /^--reason must be a reason code/],
  ];
  for (const [what, args, message] of bad) {
    it(`one line for ${what}`, () => {
      assert.throws(() => parseAuditArgs(args, NOW), (e: Error) => message.test(e.message) && !e.message.includes('\n'));
    });
  }
});
