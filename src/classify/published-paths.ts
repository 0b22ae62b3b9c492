// What Exchange 2016/2019 really serves to clients, per protocol, as path rules (path-rules.ts).
//
// Sources: the file lists of Microsoft's own install baselines (microsoft/CSS-Exchange,
// Security/src/Baselines/baseline_15.2.858.5.csv, 15.1.2176.9 and 15.0.1497.10, used by
// CompareExchangeHashes.ps1 to find web shells): FrontEnd\HttpProxy\owa\auth holds a fixed set of pages and a versioned static folder,
// ClientAccess\owa\prem\<ver> and \owa\<ver> only scripts, styles, images, fonts, sounds and
// locale data, ecp\<ver> only static files, OAB\<guid> only oab.xml and .lzx files. OWA's virtual
// handlers come from its request dispatcher (OwaUrl and RequestDispatcherUtilities: ev.owa,
// ev.owa2, auth.owa, lang.owa, logoff.owa, keepalive.owa, attachment.ashx, sessiondata.ashx,
// remotenotification.ashx, plt1.ashx, userspecificresourceinjector.ashx, ...). proxyLogon.owa and
// ping.owa are left out on purpose: only the front end calls them, on the back end.
// Web shells were dropped exactly into these folders: ProxyLogon (CVE-2021-27065) wrote to
// owa\auth and aspnet_client, ProxyShell (CVE-2021-31207) to aspnet_client and owa\auth.
import type { PathEntry, PathRule } from './path-rules.js';
import type { Protocol } from '../vocabulary/protocols.js';

const WEB_STATIC = ['css', 'js', 'map', 'json', 'xml', 'png', 'gif', 'jpg', 'jpeg', 'svg', 'ico', 'cur', 'woff', 'woff2', 'ttf', 'eot', 'otf', 'htm', 'html', 'txt'];
/** OWA also ships notification sounds, flight/locale .ini files and new-document templates. */
const OWA_STATIC = [...WEB_STATIC, 'mp3', 'wav', 'ini', 'docx', 'xlsx', 'pptx'];
/** ECP's eDiscovery export tool is a ClickOnce application inside the version folder. */
const ECP_STATIC = [...WEB_STATIC, 'deploy', 'application', 'manifest'];

/** The pages and handlers in OWA's auth folder (FrontEnd\HttpProxy\owa\auth and ClientAccess\owa\auth). */
const OWA_AUTH: PathRule = {
  path: '/owa/auth/',
  handlers: [
    'logon.aspx', 'logoff.aspx', 'signout.aspx', 'errorfe.aspx', 'error.aspx', 'error2.aspx', 'expiredpassword.aspx', 'frowny.aspx',
    'outlookcn.aspx', 'redirsuiteserviceproxy.aspx', 'timeoutlogout.aspx', 'owaauth.dll', 'exppw.dll',
    'svmfeedback.aspx', // Exchange 2013
  ],
  extensions: ['htm', 'html'],
};

const OWA_HANDLERS = [
  // Virtual handlers of OWA's dispatcher.
  'auth.owa', 'ev.owa', 'ev.owa2', 'lang.owa', 'logoff.owa', 'keepalive.owa', 'speech.reco', 'service.svc',
  'attachment.ashx', 'sessiondata.ashx', 'remotenotification.ashx', 'plt1.ashx', 'appcachemanifesthandler.ashx',
  'userspecificresourceinjector.ashx', 'mowapendingget.ashx', 'smimecrxupdate.ashx',
  // Pages in ClientAccess\owa.
  'default.aspx', 'owa14.aspx', 'redir.aspx', 'casredirect.aspx', 'languageselection.aspx', 'info.aspx', 'projection.aspx',
  'popout.aspx', 'readingpane.aspx', 'sessions.aspx', 'deeplink.aspx', 'suiteserviceproxy.aspx', 'initsuiteserviceproxy.aspx',
  'suitedatasharingproxy.aspx', 'anonymouscalendar.aspx', 'bookingselfservice.aspx', 'groups.aspx', 'disabled.aspx',
  'urlblockederror.aspx', 'fre.aspx', 'jit.aspx', 'clp.aspx', 'consensus.aspx', 'extsso.aspx', 'adpredirect.aspx',
  'meetnowcallback.aspx', 'mrsnotify.aspx', 'owahipcontrol.aspx', 'prefetch.aspx', 'schedule.aspx', 'svmfeedback.aspx', 'tf.aspx',
  'support/default.aspx',
  'upnext.aspx', 'webreadyview*.aspx', // Exchange 2013
];

/**
 * Folders that hold only static files (or a fixed set of pages), in every zone: a handler below
 * them is a web shell. The exploit-shape check walks exactly these rules, so they are refused even
 * inside and even when `edge.allowedPaths` replaces a protocol's list.
 */
export const WEB_SHELL_FOLDERS: readonly PathRule[] = [
  { path: '/owa/auth/*/', extensions: OWA_STATIC },
  OWA_AUTH,
  { path: '/owa/prem/', extensions: OWA_STATIC },
  { path: '/owa/*/themes/', extensions: OWA_STATIC },
  { path: '/owa/*/scripts/', extensions: OWA_STATIC },
  { path: '/ecp/auth/', handlers: ['timeoutlogout.aspx'], extensions: [] },
  { path: '/ecp/*/themes/', extensions: ECP_STATIC },
  { path: '/ecp/*/scripts/', extensions: ECP_STATIC },
  { path: '/ecp/*/exporttool/', extensions: ECP_STATIC },
  { path: '/ecp/*/unifiedexporttool/', extensions: ECP_STATIC },
  { path: '/oab/', extensions: ['xml', 'lzx'] },
  { path: '/aspnet_client/', extensions: ['js', 'css', 'htm', 'html', 'png', 'gif'] },
];

const ruleFor = (path: string) => WEB_SHELL_FOLDERS.filter((r) => r.path.startsWith(path));

/** Canonical paths each protocol may use from the zones the edge rules apply to. */
export const DEFAULT_ALLOWED_PATHS: Record<Protocol, readonly PathEntry[]> = {
  autodiscover: [
    '/autodiscover/autodiscover.xml',
    '/autodiscover/autodiscover.svc',
    { path: '/autodiscover/autodiscover.json/v1.0/', handlers: [] },
    // Managed Availability's probe page, on every virtual directory (anonymous only where
    // policy.healthProbes allows it: src/policy/health-probes.ts).
    '/autodiscover/healthcheck.htm',
  ],
  rpc: ['/rpc/rpcproxy.dll', '/rpcwithcert/rpcproxy.dll'],
  // MS-OXCMAPIHTTP: POST /mapi/emsmdb/?MailboxId=… and /mapi/nspi/?MailboxId=…; nothing runs below.
  mapi: ['/mapi/healthcheck.htm', '/mapi/emsmdb', '/mapi/nspi', { path: '/mapi/emsmdb/', handlers: [] }, { path: '/mapi/nspi/', handlers: [] }],
  ews: ['/ews/healthcheck.htm', '/ews/exchange.asmx', '/ews/services.wsdl', '/ews/messages.xsd', '/ews/types.xsd', { path: '/ews/exchange.asmx/', handlers: [] }],
  // ClientAccess\sync\default.eas is the handler; /Microsoft-Server-ActiveSync/Proxy is the cross-site proxy.
  eas: ['/microsoft-server-activesync', { path: '/microsoft-server-activesync/', handlers: ['default.eas', 'proxy/default.eas'] }],
  // Everything else below /owa/ without a handler extension is routed by OWA itself (/owa/, a
  // shared mailbox /owa/x@y/, published calendars /owa/calendar/…/calendar.html, /owa/integrated/…).
  owa: ['/owa', ...ruleFor('/owa/'), { path: '/owa/', handlers: OWA_HANDLERS, explicitLogon: true }],
  // ECP pages live one folder deep (/ecp/PersonalSettings/HomePage.aspx, /ecp/DDI/DDIService.svc/GetList,
  // /ecp/Handlers/UploadHandler.ashx); the auth and version folders keep their own rules.
  ecp: ['/ecp', ...ruleFor('/ecp/'), { path: '/ecp/', handlers: ['*.aspx', '*/*.aspx', '*/*.svc', '*/*.ashx'], explicitLogon: true }],
  // Outlook downloads <OABUrl>oab.xml, then the .lzx files it lists: /OAB/<guid>/oab.xml.
  oab: ['/oab/healthcheck.htm', { path: '/oab/*/', extensions: ['xml', 'lzx'] }],
  powershell: ['/powershell', { path: '/powershell/', handlers: [] }],
  unknown: [],
};
