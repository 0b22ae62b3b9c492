import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestDetail } from './request-detail.js';

describe('request detail for the admin views', () => {
  it('reads DeviceId, DeviceType and Cmd from an ActiveSync query, any case', () => {
    assert.deepEqual(requestDetail('eas', '/Microsoft-Server-ActiveSync?Cmd=Ping&User=dave&DeviceId=ABC123&DeviceType=iPhone', []), { device: { id: 'ABC123', type: 'iPhone' }, command: 'Ping' });
    assert.deepEqual(requestDetail('eas', '/microsoft-server-activesync?cmd=Sync&deviceid=X1&devicetype=Android', []), { device: { id: 'X1', type: 'Android' }, command: 'Sync' });
    assert.equal(requestDetail('eas', '/Microsoft-Server-ActiveSync', []), undefined);
  });
  it('reads the base64 query form; a binary DeviceId as hex', () => {
    // version 141, Ping (18), locale 0x0409, DeviceId 4 bytes, no policy key, DeviceType "SmartPhone"
    const b = Buffer.concat([Buffer.from([141, 18, 0x09, 0x04, 4]), Buffer.from('deadbeef', 'hex'), Buffer.from([0, 10]), Buffer.from('SmartPhone')]);
    assert.deepEqual(requestDetail('eas', `/Microsoft-Server-ActiveSync?${b.toString('base64')}`, []), { device: { id: 'deadbeef', type: 'SmartPhone' }, command: 'Ping' });
  });
  it('names the MAPI request type, and drops values that are not short printable words', () => {
    assert.deepEqual(requestDetail('mapi', '/mapi/emsmdb/', [{ name: 'X-RequestType', value: 'NotificationWait' }]), { command: 'NotificationWait' });
    assert.equal(requestDetail('mapi', '/mapi/emsmdb/', [{ name: 'X-RequestType', value: 'a b' }]), undefined);
    assert.equal(requestDetail('eas', '/x?Cmd=Sync&DeviceType=x&DeviceId=%3Cscript%3E%20x', []), undefined);
    assert.equal(requestDetail('ews', '/ews/exchange.asmx?DeviceId=1', []), undefined);
  });
});
