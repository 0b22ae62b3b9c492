import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyRequest } from './classify.js';
import { DEFAULT_ALLOWED_PATHS } from './edge-schema.js';
import { EXPLOIT_SHAPES, checkRpcTarget, exploitShape, pathAllowed } from './edge-rules.js';

const CANARY = 'Gz2cBA7VmUiNd3jtA3Bf1EvRp5a8bNkIxQJ1tKLRfY1DoR_qdVZmVj1f2ZbKOVvCwf1nJ3H6yGA.';
const OAB = '3f2a5c10-7b1e-4d7a-9a41-2c6d1e0b8f11';

/** Published exploit request shapes, by public identifier. Each must be refused at the edge. */
export const EXPLOITS: Array<{ cve: string; method: string; target: string; headers?: Record<string, string>; shape: string }> = [
  { cve: 'CVE-2021-26855', method: 'GET', target: '/owa/auth/x.js', headers: { Cookie: 'X-AnonResource=true; X-AnonResource-Backend=localhost/ecp/default.flt?~3' }, shape: 'backend-routing-cookie' },
  { cve: 'CVE-2021-26855', method: 'POST', target: '/ecp/y.js', headers: { Cookie: 'X-BEResource=localhost/EWS/Exchange.asmx?a=~1942062522' }, shape: 'backend-routing-cookie' },
  { cve: 'CVE-2021-26855', method: 'POST', target: '/ecp/proxyLogon.ecp', shape: 'proxylogon-ecp' },
  // CVE-2021-27065 as the public PoCs send it: every DDI call rides in the X-BEResource SSRF cookie.
  { cve: 'CVE-2021-27065', method: 'POST', target: '/ecp/Eb.js', headers: { Cookie: `X-BEResource=[:[@exch01.lab.local:444/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory&msExchEcpCanary=${CANARY}&a=~1942062522; ASP.NET_SessionId=x; msExchEcpCanary=${CANARY}` }, shape: 'backend-routing-cookie' },
  { cve: 'CVE-2021-27065', method: 'POST', target: '/ecp/Eb.js', headers: { Cookie: `X-BEResource=[:[@exch01.lab.local:444/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory&msExchEcpCanary=${CANARY}&a=~1942062522; msExchEcpCanary=${CANARY}` }, shape: 'backend-routing-cookie' },
  // The post-authentication form: the virtual-directory reset that writes FilePathName.
  { cve: 'CVE-2021-27065', method: 'POST', target: `/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory&msExchEcpCanary=${CANARY}`, headers: { 'X-vDirObjectId': 'x' }, shape: 'proxylogon-ecp' },
  { cve: 'CVE-2021-27065', method: 'POST', target: `/ecp/admin@lab.example/DDI/DDIService.svc/SetObject?schema=%52esetOABVirtualDirectory`, shape: 'proxylogon-ecp' },
  // Issue #10: the web shells those chains left behind, reached with plain requests.
  { cve: 'CVE-2021-27065', method: 'POST', target: '/owa/auth/Current/themes/resources/zb.aspx', shape: 'web-shell' },
  { cve: 'CVE-2021-27065', method: 'POST', target: '/owa/auth/web.aspx', shape: 'web-shell' },
  { cve: 'CVE-2021-27065', method: 'GET', target: `/OAB/${OAB}/zb.aspx`, shape: 'web-shell' },
  { cve: 'CVE-2021-31207', method: 'POST', target: '/aspnet_client/system_web/zb.aspx', shape: 'web-shell' },
  { cve: 'CVE-2021-31207', method: 'GET', target: '/owa/auth/15.2.1544/themes/resources/zb.ashx/logo.png', shape: 'web-shell' },
  { cve: 'CVE-2021-31207', method: 'POST', target: '/ecp/15.2.1544.4/themes/default/zb.asp', shape: 'web-shell' },
  { cve: 'CVE-2021-34473', method: 'GET', target: '/autodiscover/autodiscover.json?@evil.com/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.com', shape: 'autodiscover-json-confusion' },
  { cve: 'CVE-2021-34473', method: 'POST', target: '/autodiscover/autodiscover.json?@evil.com/ews/exchange.asmx?&Email=autodiscover/autodiscover.json%3F@evil.com', shape: 'autodiscover-json-confusion' },
  { cve: 'CVE-2021-34523', method: 'POST', target: '/autodiscover/autodiscover.json?@evil.com/powershell/?X-Rps-CAT=VgEAVAdXaW5kb3dzQwBBCEtlcmJlcm9z&Email=autodiscover/autodiscover.json%3F@evil.com', shape: 'autodiscover-json-confusion' },
  { cve: 'CVE-2022-41040', method: 'GET', target: '/autodiscover/autodiscover.json?@evil.com/owa/&Email=autodiscover/autodiscover.json?@evil.com&Protocol=XYZ&FooProtocol=Powershell', shape: 'autodiscover-json-confusion' },
  { cve: 'CVE-2022-41040', method: 'GET', target: '/autodiscover/autodiscover.json%3f@evil.com/owa/', shape: 'autodiscover-json-confusion' },
  { cve: 'CVE-2022-41040', method: 'GET', target: '/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.com', shape: 'autodiscover-json-confusion' },
  { cve: 'CVE-2022-41082', method: 'POST', target: '/powershell?X-Rps-CAT=VgEAVAdXaW5kb3dz', shape: 'powershell-backend' },
  { cve: 'CVE-2022-41080', method: 'POST', target: '/owa/mastermailbox%40outlook.com/powershell', shape: 'owassrf' },
  { cve: 'CVE-2021-33766', method: 'POST', target: '/ecp/x.js', headers: { Cookie: 'SecurityToken=x' }, shape: 'proxytoken' },
];

function request(e: (typeof EXPLOITS)[number]) {
  const c = classifyRequest(e.method, e.target);
  const q = e.target.includes('?') ? e.target.slice(e.target.indexOf('?') + 1) : '';
  return {
    method: e.method,
    target: e.target,
    path: c.ok ? c.path : e.target.toLowerCase(),
    query: q,
    protocol: c.ok ? c.protocol : ('unknown' as const),
    headers: Object.entries(e.headers ?? {}).map(([name, value]) => ({ name, value })),
  };
}

describe('exploit shapes', () => {
  for (const e of EXPLOITS) {
    it(`${e.cve}: ${e.method} ${e.target.slice(0, 70)} -> ${e.shape}`, () => {
      assert.equal(exploitShape(request(e))?.id, e.shape);
    });
  }
  it('every shape in the table has a CVE and a test', () => {
    for (const s of EXPLOIT_SHAPES) {
      assert.ok(s.cves.length > 0);
      assert.ok(EXPLOITS.some((e) => e.shape === s.id), s.id);
    }
  });
  for (const [method, target] of [
    ['GET', '/autodiscover/autodiscover.json/v1.0/alice@lab.example?Protocol=EWS'],
    ['POST', '/autodiscover/autodiscover.xml'],
    ['POST', '/mapi/emsmdb/?MailboxId=2f1e5a4c-0d4e-4c3b-9a1f-7e6d5c4b3a21@lab.example'],
    ['GET', '/owa/alice@lab.example/'],
    ['POST', '/EWS/Exchange.asmx'],
    // Issue #10: the ECP pages' own DDI traffic is not ProxyLogon.
    ['POST', `/ecp/DDI/DDIService.svc/GetList?reqId=1615583487987&schema=VirtualDirectory&msExchEcpCanary=${CANARY}`],
    ['POST', `/ecp/DDI/DDIService.svc/GetObject?schema=OABVirtualDirectory&msExchEcpCanary=${CANARY}`],
    ['POST', `/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory&msExchEcpCanary=${CANARY}`],
    ['GET', '/owa/auth/Current/themes/resources/favicon.ico'],
    ['GET', `/OAB/${OAB}/oab.xml`],
    ['GET', '/owa/auth/logon.aspx?url=https%3a%2f%2fmail.lab.example%2fowa%2f&reason=0'],
  ] as const) {
    it(`lets a legitimate ${method} ${target} through`, () => assert.equal(exploitShape(request({ cve: '', method, target, shape: '' })), undefined));
  }
});

describe('path allow-list and RPC targets', () => {
  it('allows only published paths per protocol', () => {
    assert.ok(pathAllowed('/ews/exchange.asmx', DEFAULT_ALLOWED_PATHS.ews));
    assert.ok(!pathAllowed('/ews/operations/x', DEFAULT_ALLOWED_PATHS.ews));
    assert.ok(pathAllowed('/mapi/emsmdb/', DEFAULT_ALLOWED_PATHS.mapi));
    assert.ok(!pathAllowed('/autodiscover/autodiscover.json', DEFAULT_ALLOWED_PATHS.autodiscover), 'the legacy query form is not published');
  });
  const targets = { hosts: ['exch*.lab.local'], ports: [6001, 6002, 6004] };
  const guid = '2f1e5a4c-0d4e-4c3b-9a1f-7e6d5c4b3a21';
  for (const [q, cl, ok] of [
    [`${guid}@lab.example:6001`, 1073741824, true],
    [`${guid}%40lab.example:6004`, 76, true],
    ['exch01.lab.local:6002', 76, true],
    [`${guid}@evil.example:6001`, 76, false],
    [`${guid}@lab.example:135`, 76, false],
    ['EXCH01:593', 76, false],
    ['dc1.lab.local:6001', 76, false],
    ['', 0, true],
    ['', 1073741824, false],
    ['no-port', 76, false],
  ] as const) {
    it(`rpc target "${q}" with Content-Length ${cl}: ${ok ? 'allowed' : 'refused'}`, () => assert.equal(checkRpcTarget(q, cl, targets, ['lab.example']).ok, ok));
  }
});
