// Issue #10: web shells inside published folders reached Exchange because the allow-lists were
// folder prefixes. The defaults now say what each protocol serves; real client traffic still passes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyRequest } from './classify.js';
import { DEFAULT_ALLOWED_PATHS, WEB_SHELL_FOLDERS } from './published-paths.js';
import { pathAllowed, ruleVerdict } from './path-rules.js';

const GUID = '3f2a5c10-7b1e-4d7a-9a41-2c6d1e0b8f11';

function allowed(target: string): boolean {
  const c = classifyRequest('GET', target);
  assert.ok(c.ok, target);
  return pathAllowed(c.path, DEFAULT_ALLOWED_PATHS[c.protocol]);
}

/** Paths the lab, the tests, the interop peers and real Exchange 2016/2019 clients use. */
const CLIENT_PATHS = [
  '/owa', '/owa/', '/owa/1', '/owa/alice/0', '/owa/alice@lab.example/', '/owa/?a=%41&b', '/owa/#path=/mail',
  '/owa/auth/logon.aspx?url=https%3a%2f%2fmail%2fowa%2f&reason=0', '/owa/auth.owa', '/owa/auth/errorFE.aspx', '/owa/auth/expiredpassword.aspx',
  '/owa/auth/GetIdToken.htm', '/owa/auth/15.2.1544/themes/resources/favicon.ico', '/owa/auth/Current/themes/resources/logon.css',
  '/owa/auth/15.2.1544/scripts/premium/flogon.js', '/owa/auth/15.2.1544/themes/resources/SegoeUI-Regular.woff2',
  '/owa/service.svc?action=GetFolder', '/owa/service.svc/s/GetFileAttachment?id=x', '/owa/ev.owa?oeh=1', '/owa/ev.owa2?ns=PendingRequest',
  '/owa/logoff.owa', '/owa/lang.owa', '/owa/healthcheck.htm', '/owa/favicon.ico', '/owa/sessiondata.ashx?appcacheclient=0',
  '/owa/userspecificresourceinjector.ashx?ver=15.2.1544.4', '/owa/plt1.ashx', '/owa/remotenotification.ashx', '/owa/attachment.ashx',
  '/owa/shared@lab.example/service.svc?action=FindItem', '/owa/integrated/', `/owa/calendar/${GUID}@lab.example/${GUID}/calendar.html`,
  `/owa/calendar/${GUID}@lab.example/${GUID}/calendar.ics`, '/owa/prem/15.2.1544.4/scripts/boot.worldwide.0.mouse.js',
  '/owa/prem/15.2.1544.4/resources/styles/0/boot.worldwide.mouse.css', '/owa/prem/15.2.1544.4/resources/sounds/notify.mp3',
  '/owa/15.2.1544/themes/base/notify.wav', '/owa/projection.aspx', '/owa/smime/owasmime.msi',
  `/OAB/${GUID}/oab.xml`, `/OAB/${GUID}/${GUID}-data-1.lzx`,
  '/ecp', '/ecp/', '/ecp/?ExchClientVer=15', '/ecp/default.aspx', '/ecp/PersonalSettings/HomePage.aspx', '/ecp/DDI/DDIService.svc/GetList?schema=VirtualDirectory',
  '/ecp/alice@lab.example/DDI/DDIService.svc/GetList', '/ecp/Handlers/UploadHandler.ashx', '/ecp/auth/TimeoutLogout.aspx',
  '/ecp/15.2.1544.4/themes/default/main_default.css', '/ecp/15.2.1544.4/scripts/microsoft.exchange.controlpanel.client.js',
  '/Microsoft-Server-ActiveSync', '/Microsoft-Server-ActiveSync?Cmd=Sync&User=dave', '/Microsoft-Server-ActiveSync/default.eas',
  '/EWS/Exchange.asmx', '/EWS/Exchange.asmx/wssecurity', '/EWS/Services.wsdl',
  '/mapi/emsmdb/?MailboxId=x@lab.example', '/mapi/nspi', '/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.svc',
  '/autodiscover/autodiscover.json/v1.0/erin@lab.example?Protocol=EWS', '/rpc/rpcproxy.dll', '/PowerShell/',
];

const SHELL_EXTENSIONS = ['aspx', 'ashx', 'asmx', 'svc', 'asp', 'php', 'jsp', 'config', 'cer'];
/** Where web shells were dropped in the wild, and the other folders that serve static files only. */
const STATIC_FOLDERS = [
  '/owa/auth/Current/themes/resources/', '/owa/auth/15.2.1544/themes/resources/', '/owa/auth/15.1.2507/scripts/premium/',
  '/owa/prem/15.2.1544.4/resources/', '/owa/15.2.1544/themes/base/', '/ecp/15.2.1544.4/themes/default/', '/ecp/15.2.1544.4/scripts/',
  `/OAB/${GUID}/`, '/aspnet_client/system_web/4_0_30319/', '/aspnet_client/',
];

describe('published paths (issue #10)', () => {
  for (const p of CLIENT_PATHS) {
    if (p.startsWith('/rpc') || p.startsWith('/PowerShell')) continue; // classified only with their own methods / zone-blocked
    it(`publishes ${p}`, () => assert.ok(allowed(p)));
  }
  for (const folder of STATIC_FOLDERS) {
    for (const ext of SHELL_EXTENSIONS) {
      const target = `${folder}x${ext.length}.${ext}`;
      it(`refuses the web shell ${target}`, () => {
        const c = classifyRequest('POST', target);
        assert.ok(c.ok);
        assert.equal(ruleVerdict(c.path, WEB_SHELL_FOLDERS), false, 'a web-shell folder in every zone');
        if (c.protocol !== 'unknown') assert.equal(pathAllowed(c.path, DEFAULT_ALLOWED_PATHS[c.protocol]), false, 'and off the allow-list');
      });
    }
  }
  for (const p of [
    '/owa/auth/web.aspx', '/owa/auth/shell.ashx', '/owa/x.aspx', '/owa/proxyLogon.owa', '/owa/ping.owa', '/owa/web.config', '/owa/global.asax',
    '/owa/shared@lab.example/x.aspx', '/owa/calendar/x@y/z/shell.aspx', '/owa/service.svc/x.aspx', '/owa/auth/Current/themes/resources/x.aspx/logo.png',
    '/owa/forms/basic/BasicEditMessage.aspx', `/OAB/${GUID}/`, `/OAB/${GUID}/x.txt`, '/OAB/', '/ecp/auth/x.aspx', '/ecp/a/b/c.aspx', '/ecp/web.config',
    '/mapi/emsmdb/x.aspx', '/EWS/Exchange.asmx/x.aspx', '/EWS/x.aspx', '/Microsoft-Server-ActiveSync/x.aspx',
    '/autodiscover/autodiscover.json/v1.0/x.aspx', '/autodiscover/x.aspx',
  ]) {
    it(`refuses ${p}`, () => assert.equal(allowed(p), false));
  }
});

describe('path rule semantics', () => {
  it('a plain string keeps its meaning: exact, or a prefix when it ends in /', () => {
    const list = ['/owa', '/owa/'];
    assert.ok(pathAllowed('/owa/auth/current/themes/resources/x.aspx', list), 'an operator who lists a bare prefix gets a bare prefix');
    assert.ok(pathAllowed('/owa', list));
    assert.ok(!pathAllowed('/owax', list));
    assert.ok(!pathAllowed('/ecp/', ['/ecp']));
  });
  it('the first rule covering a path decides', () => {
    assert.ok(!pathAllowed('/a/s/x.aspx', [{ path: '/a/s/', extensions: ['css'] }, '/a/']));
    assert.ok(pathAllowed('/a/s/x.aspx', ['/a/', { path: '/a/s/', extensions: ['css'] }]));
  });
  it("'*' is one whole segment in paths and part of one in handlers", () => {
    const rules = [{ path: '/v/*/static/', extensions: ['js'] }, { path: '/v/', handlers: ['*.aspx', 'f/*.svc'] }];
    assert.ok(pathAllowed('/v/1.2/static/a/b.js', rules));
    assert.ok(!pathAllowed('/v/1.2/static/a/b.aspx', rules));
    assert.ok(!pathAllowed('/v/static/b.aspx', rules), "'*.aspx' stays within one segment");
    assert.ok(pathAllowed('/v/p.aspx', rules));
    assert.ok(pathAllowed('/v/f/s.svc/op', rules), 'path info after an allowed handler');
    assert.ok(!pathAllowed('/v/g/s.svc', rules));
    assert.ok(!pathAllowed('/v/f/s.svc/x.aspx', rules), 'path info may not name a second handler');
  });
});
