import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceKey, parseActiveSyncQuery } from './activesync-query.js';
import { easBase64 } from '../../test/helpers/eas-query.js';

/** The same bytes with the unused low bits of the last character set: Buffer.from would accept it. */
function nonCanonical(b64: string): string {
  const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const body = b64.replace(/=+$/, '');
  const last = ALPHA.indexOf(body[body.length - 1]!);
  return body.slice(0, -1) + ALPHA[last | 1]! + b64.slice(body.length);
}

const ok = (q: string | undefined) => {
  const r = parseActiveSyncQuery(q);
  assert.ok(r.ok, `expected ${q} to parse, got ${r.ok ? '' : r.problem}`);
  return r.query;
};
const problem = (q: string | undefined) => {
  const r = parseActiveSyncQuery(q);
  assert.ok(!r.ok, `expected ${q} to be refused`);
  return r.problem;
};

describe('ActiveSync query: the plain form', () => {
  it('reads Cmd, User, DeviceId and DeviceType, names in any case, in any order', () => {
    assert.deepEqual(ok('Cmd=Sync&User=jdoe&DeviceId=ABCDEF0123&DeviceType=iPhone'), { form: 'plain', command: 'Sync', deviceId: 'ABCDEF0123', deviceType: 'iPhone', user: 'jdoe', protocolVersion: undefined });
    assert.deepEqual(ok('devicetype=SmartPhone&deviceid=v140Device&cmd=FolderSync&user=LAB%5Cdave&'), { form: 'plain', command: 'FolderSync', deviceId: 'v140Device', deviceType: 'SmartPhone', user: 'LAB\\dave', protocolVersion: undefined });
    assert.equal(ok('Cmd=SendMail&DeviceId=a_b-c&DeviceType=SAMSUNG.SM-G950F&SaveInSent=T&ItemId=5%3A1').user, undefined, 'User is optional; extra parameters pass');
  });

  const refusals: Array<[string | undefined, RegExp]> = [
    [undefined, /query is missing/],
    ['', /query is missing/],
    ['Cmd=Sync&DeviceId=A&DeviceId=B&DeviceType=x', /DeviceId is given twice/],
    ['Cmd=Sync&DeviceId=A&deviceid=B&DeviceType=x', /deviceid is given twice/],
    ['Cmd=Sync&DeviceId=A&Device%49d=B&DeviceType=x', /parameter name "Device%49d"/],
    ['Cmd=Sync&DeviceId=A%42&DeviceType=x', /DeviceId is not/],
    ['Cmd=Sync&DeviceId=A,B&DeviceType=x', /DeviceId is not/],
    ['Cmd=Sync&DeviceId=&DeviceType=x', /DeviceId is not/],
    [`Cmd=Sync&DeviceId=${'A'.repeat(65)}&DeviceType=x`, /DeviceId is not 1-64/],
    ['Cmd=Sync&DeviceId=A%00&DeviceType=x', /DeviceId is not/],
    ['Cmd=Sync&DeviceType=x', /DeviceId is missing/],
    ['Cmd=Sync&DeviceId=A', /DeviceType is missing/],
    ['Cmd=Sync&DeviceId=A&DeviceType=i%20Phone', /DeviceType is not/],
    ['DeviceId=A&DeviceType=x', /Cmd is missing/],
    ['Cmd=Sy%6Ec&DeviceId=A&DeviceType=x', /Cmd is not/],
    ['Cmd=Sync&DeviceId=A&DeviceType=x&Junk', /"Junk" has no value/],
    ['Cmd=Sync&DeviceId=A&DeviceType=x&ItemId=%zz', /ItemId has a malformed percent escape/],
    ['Cmd=Sync&DeviceId=A&DeviceType=x&ItemId=%u0041', /malformed percent escape/],
    ['Cmd=Sync&DeviceId=A&DeviceType=x&User=a%20b', /User is not/],
    [`Cmd=Sync&DeviceId=A&DeviceType=x&ItemId=${'a'.repeat(2100)}`, /longer than 2048/],
  ];
  for (const [q, why] of refusals) {
    it(`refuses ${q === undefined ? 'no query' : JSON.stringify(q.slice(0, 60))}`, () => assert.match(problem(q), why));
  }
});

describe('ActiveSync query: the base64 form', () => {
  it('decodes the specification example (MS-ASHTTP 2.2.1.1.1.1)', () => {
    assert.deepEqual(ok('jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l'), { form: 'base64', command: 'Sync', deviceId: 'v140Device', deviceType: 'SmartPhone', user: undefined, protocolVersion: '14.0' });
  });

  it('reads a policy key, the User parameter, Ping, escaped base64 characters; a binary DeviceId as hex', () => {
    const q = easBase64({ version: 161, command: 18, id: Buffer.from('00ff10ab', 'hex'), key: Buffer.from([1, 2, 3, 4]), type: 'WP8', params: [[8, 'LAB\\dave'], [7, Buffer.from([1])]] });
    assert.deepEqual(ok(q), { form: 'base64', command: 'Ping', deviceId: '00ff10ab', deviceType: 'WP8', user: 'LAB\\dave', protocolVersion: '16.1' });
    assert.equal(ok(encodeURIComponent(q)).deviceId, '00ff10ab', 'percent-escaped + / =');
  });

  const refusals: Array<[string, RegExp]> = [
    [easBase64({ version: 120, id: 'A', type: 'x' }), /protocol version 12 has no base64/],
    [easBase64({ command: 7, id: 'A', type: 'x' }), /command code 7 is not defined/],
    [easBase64({ command: 99, id: 'A', type: 'x' }), /command code 99/],
    [easBase64({ id: '', type: 'x' }), /DeviceId length 0/],
    [easBase64({ id: 'A'.repeat(33), type: 'x' }), /DeviceId length 33/],
    [easBase64({ id: 'A', key: Buffer.from([1, 2]), type: 'x' }), /policy key length 2/],
    [easBase64({ id: 'A', type: 'i Phone' }), /DeviceType is not/],
    [easBase64({ id: 'A', type: '' }), /DeviceType is not/],
    [easBase64({ id: 'A', type: 'x', params: [[9, 'z']] }), /tag 9 is not defined/],
    [easBase64({ id: 'A', type: 'x', params: [[8, 'a'], [8, 'b']] }), /User is given twice/],
    [easBase64({ id: 'A', type: 'x', params: [[7, Buffer.from([1, 2])]] }), /Options is not one byte/],
    [easBase64({ id: 'A', type: 'x', params: [[8, 'a\u0001']] }), /User is not/],
    [Buffer.concat([Buffer.from(easBase64({ id: 'A', type: 'x' }), 'base64'), Buffer.from([1])]).toString('base64'), /tag 1 has no length/],
    [Buffer.concat([Buffer.from(easBase64({ id: 'A', type: 'x' }), 'base64'), Buffer.from([1, 5, 65])]).toString('base64'), /CollectionId runs past the end/],
    [Buffer.from([141, 0, 9, 4, 10, 65, 65]).toString('base64'), /DeviceId runs past the end/],
    [Buffer.from([141, 0, 9, 4, 1, 65]).toString('base64'), /shorter than its fixed fields/],
    [nonCanonical(easBase64({ id: 'A', type: 'xy' })), /neither/],
    ['jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l==', /neither/],
    ['jAAJBAp2MTQw-GV2aWNlAApTbWFydFBob25l', /neither/],
    ['jAAJBAp2MTQwRGV2aWNl AApTbWFydFBob25l', /neither/],
  ];
  for (const [q, why] of refusals) {
    it(`refuses ${JSON.stringify(q.slice(0, 48))}`, () => assert.match(problem(q), why));
  }

  it('is one query or the other: a base64 value with plain parameters after it is plain, and refused', () => {
    assert.match(problem('jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l&DeviceId=other'), /has no value/);
    assert.match(problem('jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l=&DeviceId=other'), /parameter name/);
    assert.match(problem('v140Device=&Cmd=Sync&DeviceId=other&DeviceType=x&DeviceId=A'), /DeviceId is given twice/);
  });
});

describe('device keys', () => {
  it('ids that differ only in case are one device, whichever form carried them', () => {
    const plain = ok('Cmd=Sync&DeviceId=V140DEVICE&DeviceType=SmartPhone');
    const b64 = ok('jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l');
    assert.equal(deviceKey(plain.deviceId), deviceKey(b64.deviceId));
  });
});
