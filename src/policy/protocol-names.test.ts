import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { protocolList, protocolNamed } from './protocol-names.js';

describe('protocolNamed', () => {
  const table: Array<[string, string | undefined]> = [
    ['eas', 'eas'],
    ['activesync', 'eas'],
    ['ActiveSync', 'eas'],
    ['Exchange ActiveSync', 'eas'],
    ['outlook anywhere', 'rpc'],
    ['Outlook-Anywhere', 'rpc'],
    ['rpc/http', 'rpc'],
    ['RPC over HTTP', 'rpc'],
    ['mapi/http', 'mapi'],
    ['MAPI over HTTP', 'mapi'],
    ['ews', 'ews'],
    ['Outlook on the web', 'owa'],
    ['eac', 'ecp'],
    ['offline address book', 'oab'],
    ['remote powershell', 'powershell'],
    ['autodiscover', 'autodiscover'],
    ['smtp', undefined],
    ['', undefined],
    ['mapi/http/x', undefined],
  ];
  for (const [name, want] of table) it(`"${name}" -> ${String(want)}`, () => assert.equal(protocolNamed(name), want));

  it('lists the protocols with the names admins use', () => {
    assert.match(protocolList(), /eas \(activesync\)/);
    assert.match(protocolList(), /rpc \(outlook anywhere\)/);
    assert.match(protocolList(), /mapi \(mapi\/http\)/);
    assert.doesNotMatch(protocolList(), /unknown/);
  });
});
