import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredRecord } from './audit-record.js';
import { csvCell, csvHeader, csvRow, detail, printable, printer, tableRow } from './audit-format.js';

const TS = Date.UTC(2026, 11, 1, 8, 0, 0, 123);
const denied: StoredRecord = { id: 7, uid: 'u7', ts: TS, event: 'denied', decision: 'deny', user: 'LAB\\carol', scheme: 'ntlm', clientIp: '203.0.113.9', clientPort: 50123, zone: 'external', protocol: 'ews', status: 401, reasons: ['not-in-group', 'default-deny'], ref: '5ff0834b4632', cause: 'concealed' };

describe('audit output', () => {
  it('a table row says who, from where, to what and why', () => {
    const row = tableRow(denied);
    assert.match(row, /^2026-12-01 08:00:00\.123 denied +deny +LAB\\carol +ntlm +203\.0\.113\.9:50123 +external ews +401 +not-in-group,default-deny; concealed; ref 5ff0834b4632$/);
    assert.equal(tableRow({ ...denied, clientIp: '2001:db8::7', clientPort: 443 }).includes('[2001:db8::7]:443'), true);
  });

  it('why, per kind of record', () => {
    const base = { id: 1, uid: 'u', ts: TS };
    assert.equal(detail({ ...base, event: 'connection-closed', requests: 12, bytesIn: 2048, bytesOut: 3 * 1024 * 1024, durationMs: 4200, cause: 'client-closed' }), '12 req, 2.0 KiB in, 3.0 MiB out, 4.2 s; client-closed');
    assert.equal(detail({ ...base, event: 'revoked', actor: 'admin', text: 'left the company', cause: '1 connection(s) closed' }), 'by admin; "left the company"; 1 connection(s) closed');
    assert.equal(detail({ ...base, event: 'identity-bound', reasons: ['group-ok'], rule: 'outlook-remote' }), 'group-ok; rule outlook-remote');
  });

  it('a crafted user name cannot drive the terminal', () => {
    assert.equal(printable('evil\u001b[2J\u0007\u009b'), 'evil\\x1b[2J\\x07\\x9b');
    assert.ok(!tableRow({ ...denied, user: 'x\u001b]0;pwned\u0007' }).includes('\u001b'));
  });

  it('CSV: quoted per RFC 4180, formulas neutralised', () => {
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`);
    assert.equal(csvCell('@SUM(1)'), "'@SUM(1)");
    assert.equal(csvCell(-5), '-5', 'numbers are numbers');
    assert.equal(csvCell(undefined), '');
    const cols = csvHeader().split(',');
    const cells = csvRow(denied).split(',');
    assert.equal(cells.length, cols.length);
    assert.equal(cells[cols.indexOf('reasons')], 'not-in-group default-deny');
    assert.equal(cells[cols.indexOf('time')], '2026-12-01T08:00:00.123Z');
    const eas = csvRow({ ...denied, deviceId: 'ApplC39GQ1', deviceType: 'iPhone' }).split(',');
    assert.deepEqual([eas[cols.indexOf('device_id')], eas[cols.indexOf('device_type')]], ['ApplC39GQ1', 'iPhone']);
  });

  it('the WHY column names an ActiveSync device, and who changed one', () => {
    assert.match(detail({ ...denied, reasons: ['device-blocked'], deviceId: 'ApplC39GQ1', deviceType: 'iPhone' }), /^device-blocked; .*device ApplC39GQ1 \(iPhone\)/);
    assert.equal(detail({ id: 9, uid: 'u', ts: 0, event: 'device-changed', user: 'LAB\\dave', actor: 'admin:ops', cause: 'blocked', text: '1 connection(s) closed', deviceId: 'P1' }), 'by admin:ops; "1 connection(s) closed"; blocked; device P1');
  });

  it('JSON lines: one record per line, as stored', () => {
    const lines: string[] = [];
    printer('jsonl', (l) => lines.push(l))(denied);
    assert.deepEqual(JSON.parse(lines[0]!), denied);
    const csv: string[] = [];
    printer('csv', (l) => csv.push(l))(denied);
    assert.equal(csv[0], csvHeader());
  });
});
