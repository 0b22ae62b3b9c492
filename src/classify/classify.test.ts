import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyRequest } from './classify.js';

describe('classifyRequest', () => {
  const cases: Array<[string, string, string]> = [
    ['RPC_IN_DATA', '/rpc/rpcproxy.dll?EXCH01:6001', 'rpc'],
    ['RPC_OUT_DATA', '/RPC/RpcProxy.DLL?x@lab.example:6004', 'rpc'],
    ['RPC_IN_DATA', '/rpcwithcert/rpcproxy.dll', 'rpc'],
    ['GET', '/rpc/rpcproxy.dll', 'unknown'],
    ['RPC_IN_DATA', '/owa/', 'unknown'],
    ['POST', '/mapi/emsmdb/?MailboxId=a@b', 'mapi'],
    ['POST', '/Autodiscover/Autodiscover.xml', 'autodiscover'],
    ['GET', '/autodiscover/autodiscover.json/v1.0/a@b?Protocol=EWS', 'autodiscover'],
    ['POST', '/EWS/Exchange.asmx', 'ews'],
    ['OPTIONS', '/Microsoft-Server-ActiveSync', 'eas'],
    ['GET', '/owa', 'owa'],
    ['GET', '/owax/', 'unknown'],
    ['GET', '/ecp/default.aspx', 'ecp'],
    ['GET', '/OAB/guid/oab.xml', 'oab'],
    ['POST', '/PowerShell?x', 'powershell'],
    ['GET', '/owa/..%2fecp/', 'ecp'],
    ['GET', '/owa/%2e%2e/ecp', 'ecp'],
    ['GET', '/owa\\..\\ecp', 'ecp'],
    ['GET', '//EWS//Exchange.asmx', 'ews'],
    ['GET', '/%65cp/', 'ecp'],
    ['GET', '/', 'unknown'],
  ];
  for (const [method, target, protocol] of cases) {
    it(`${method} ${target} -> ${protocol}`, () => {
      const c = classifyRequest(method, target);
      assert.equal(c.ok && c.protocol, protocol);
    });
  }

  const refused: Array<[string, string]> = [
    ['/owa/%zz', 'malformed percent-encoding'],
    ['/owa/%252e%252e/ecp', 'double percent-encoding'],
    ['/owa/%00', 'encoded control character'],
    ['/owa/%c0%ae%c0%ae/ecp', 'not valid UTF-8'],
    ['/../ecp', 'climb above the root'],
    ['/ecp./', 'ends in a dot'],
    ['/owa/x::$DATA', 'colon'],
  ];
  for (const [target, why] of refused) {
    it(`refuses ${target} (${why})`, () => {
      const c = classifyRequest('GET', target);
      assert.equal(c.ok, false);
      if (!c.ok) assert.match(c.reason, new RegExp(why.replace(/[$]/g, '\\$')));
    });
  }

  it('keeps the query out of the canonical path', () => {
    const c = classifyRequest('POST', '/mapi/emsmdb/?MailboxId=ABC@LAB.EXAMPLE');
    assert.deepEqual(c, { ok: true, protocol: 'mapi', path: '/mapi/emsmdb/', query: 'MailboxId=ABC@LAB.EXAMPLE' });
  });
});
