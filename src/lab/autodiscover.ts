import { XMLParser } from 'fast-xml-parser';
import { mailboxGuidOf } from '../directory/file-directory.js';
import type { DirectoryUser } from '../directory/file-schema.js';
import type { LabRequest, LabResponse } from './lab-http.js';
import { type LabState, labDomain } from './lab-context.js';

const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, processEntities: false });
const RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';
const OUTLOOK_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';
const MOBILE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006';
const BUILD = { major: 15, minor: 2, build: 1118, revision: 7 };

/** Exchange's hex ServerVersion: 4 bits 0111, 6 bits major, 6 bits minor, 1 bit set, 15 bits build. */
export function serverVersionHex(major: number, minor: number, build: number): string {
  const v = ((0b0111 << 28) | (major << 22) | (minor << 16) | (1 << 15) | build) >>> 0;
  return v.toString(16).toUpperCase().padStart(8, '0');
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function errorPox(code: number, message: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${RESPONSE_NS}">
  <Response>
    <Error Time="${new Date().toISOString().slice(11, 19)}" Id="2477272013">
      <ErrorCode>${code}</ErrorCode>
      <Message>${xml(message)}</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>
`;
}

function urlSet(base: string): string {
  return `        <ASUrl>${base}/EWS/Exchange.asmx</ASUrl>
        <EwsUrl>${base}/EWS/Exchange.asmx</EwsUrl>
        <EmwsUrl>${base}/EWS/Exchange.asmx</EmwsUrl>
        <EcpUrl>${base}/owa/</EcpUrl>
        <OOFUrl>${base}/EWS/Exchange.asmx</OOFUrl>
        <OABUrl>${base}/OAB/3f2a5c10-7b1e-4d7a-9a41-2c6d1e0b8f11/</OABUrl>`;
}

/** The Outlook-schema answer as Exchange 2019 shapes it: EXCH (internal), EXPR (external), WEB, mapiHttp. */
export function outlookPox(state: LabState, u: DirectoryUser, opts: { mapiHttp: boolean; exHttp: boolean }): string {
  const domain = labDomain(state.options);
  const guid = mailboxGuidOf(u);
  const server = `${guid}@${domain}`;
  const internal = state.options.internalUrl.replace(/\/$/, '');
  const external = state.externalUrl.replace(/\/$/, '');
  const extHost = new URL(external).host;
  const intHost = new URL(internal).host;
  const legacyDn = `/o=Lab/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=${u.sAMAccountName}`;
  const ver = serverVersionHex(BUILD.major, BUILD.minor, BUILD.build);
  const serverDn = `/o=Lab/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=${server}`;
  const exhttp = (host: string, base: string) => `      <Protocol>
        <Type>EXHTTP</Type>
        <Server>${host}</Server>
        <SSL>On</SSL>
        <AuthPackage>Ntlm</AuthPackage>
        <ServerExclusiveConnect>On</ServerExclusiveConnect>
        <CertPrincipalName>None</CertPrincipalName>
${urlSet(base)}
      </Protocol>
`;
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${RESPONSE_NS}">
  <Response xmlns="${OUTLOOK_NS}">
    <User>
      <DisplayName>${xml(u.displayName ?? u.sAMAccountName)}</DisplayName>
      <LegacyDN>${xml(legacyDn)}</LegacyDN>
      <AutoDiscoverSMTPAddress>${xml(u.mail)}</AutoDiscoverSMTPAddress>
      <DeploymentId>5e7f3c1a-6a55-4b0e-9d0c-0a1b2c3d4e5f</DeploymentId>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <MicrosoftOnline>False</MicrosoftOnline>
      <ConsumerMailbox>False</ConsumerMailbox>
      <Protocol>
        <Type>EXCH</Type>
        <Server>${server}</Server>
        <ServerDN>${xml(serverDn)}</ServerDN>
        <ServerVersion>${ver}</ServerVersion>
        <MdbDN>${xml(serverDn)}/cn=Microsoft Private MDB</MdbDN>
        <PublicFolderServer>${intHost}</PublicFolderServer>
        <AD>dc1.${domain}</AD>
${urlSet(internal)}
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <Server>${extHost}</Server>
        <SSL>On</SSL>
        <AuthPackage>Ntlm</AuthPackage>
        <ServerExclusiveConnect>Off</ServerExclusiveConnect>
        <CertPrincipalName>None</CertPrincipalName>
        <ServerVersion>${ver}</ServerVersion>
${urlSet(external)}
      </Protocol>
${opts.exHttp ? exhttp(intHost, internal) + exhttp(extHost, external) : ''}      <Protocol>
        <Type>WEB</Type>
        <Internal>
          <OWAUrl AuthenticationMethod="Basic, Fba">${internal}/owa/</OWAUrl>
          <Protocol>
            <Type>EXCH</Type>
            <ASUrl>${internal}/EWS/Exchange.asmx</ASUrl>
          </Protocol>
        </Internal>
        <External>
          <OWAUrl AuthenticationMethod="Fba">${external}/owa/</OWAUrl>
          <Protocol>
            <Type>EXPR</Type>
            <ASUrl>${external}/EWS/Exchange.asmx</ASUrl>
          </Protocol>
        </External>
      </Protocol>
${
  opts.mapiHttp
    ? `      <Protocol Type="mapiHttp" Version="1">
        <MailStore>
          <InternalUrl>${internal}/mapi/emsmdb/?MailboxId=${server}</InternalUrl>
          <ExternalUrl>${external}/mapi/emsmdb/?MailboxId=${server}</ExternalUrl>
        </MailStore>
        <AddressBook>
          <InternalUrl>${internal}/mapi/nspi/?MailboxId=${server}</InternalUrl>
          <ExternalUrl>${external}/mapi/nspi/?MailboxId=${server}</ExternalUrl>
        </AddressBook>
      </Protocol>
`
    : ''
}    </Account>
  </Response>
</Autodiscover>
`;
}

function mobilePox(state: LabState, u: DirectoryUser): string {
  const external = state.externalUrl.replace(/\/$/, '');
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${RESPONSE_NS}">
  <Response xmlns="${MOBILE_NS}">
    <Culture>en:us</Culture>
    <User>
      <DisplayName>${xml(u.displayName ?? u.sAMAccountName)}</DisplayName>
      <EMailAddress>${xml(u.mail)}</EMailAddress>
    </User>
    <Action>
      <Settings>
        <Server>
          <Type>MobileSync</Type>
          <Url>${external}/Microsoft-Server-ActiveSync</Url>
          <Name>${external}/Microsoft-Server-ActiveSync</Name>
        </Server>
      </Settings>
    </Action>
  </Response>
</Autodiscover>
`;
}

function findValue(obj: unknown, key: string): string | undefined {
  if (!obj || typeof obj !== 'object') return undefined;
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    if (k === key && (typeof v === 'string' || typeof v === 'number')) return String(v);
    const inner = findValue(v, key);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

function findAll(obj: unknown, key: string, out: string[] = []): string[] {
  if (!obj || typeof obj !== 'object') return out;
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    if (k === key) for (const x of Array.isArray(v) ? v : [v]) if (typeof x === 'string') out.push(x);
    findAll(v, key, out);
  }
  return out;
}

function parseXml(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (/<!DOCTYPE/i.test(text)) throw new Error('DOCTYPE not allowed');
  return parser.parse(text);
}

/** POST /autodiscover/autodiscover.xml (Outlook and mobilesync schemas). */
export async function handlePox(state: LabState, identity: string, req: LabRequest, res: LabResponse): Promise<void> {
  let doc: unknown;
  try {
    doc = parseXml(await req.body(64 * 1024));
  } catch {
    res.send(200, 'OK', errorPox(600, 'Invalid Request'), 'text/xml; charset=utf-8');
    return;
  }
  const address = findValue(doc, 'EMailAddress');
  const schema = findValue(doc, 'AcceptableResponseSchema') ?? OUTLOOK_NS;
  const dir = state.options.directory;
  const u = address ? dir.byMail(address) : dir.resolveLogon(identity);
  if (!u) {
    res.send(200, 'OK', errorPox(500, 'The email address can\'t be found.'), 'text/xml; charset=utf-8');
    return;
  }
  const body = schema.includes('mobilesync')
    ? mobilePox(state, u)
    : outlookPox(state, u, {
        mapiHttp: Number(req.header('x-mapihttpcapability') ?? '0') >= 1,
        exHttp: /exhttpinfo/i.test(req.header('x-clientcanhandle') ?? ''),
      });
  res.send(200, 'OK', body, 'text/xml; charset=utf-8', [], true);
}

const SUPPORTED_SCHEMAS =
  'Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1, Exchange2016';

/** POST /autodiscover/autodiscover.svc: GetUserSettings as EWS clients (exchangelib) send it. */
export async function handleSoap(state: LabState, req: LabRequest, res: LabResponse): Promise<void> {
  let doc: unknown;
  try {
    doc = parseXml(await req.body(64 * 1024));
  } catch {
    res.send(400, 'Bad Request', 'malformed SOAP request\n', 'text/plain');
    return;
  }
  const mailbox = findValue(doc, 'Mailbox') ?? '';
  const u = state.options.directory.byMail(mailbox);
  const external = state.externalUrl.replace(/\/$/, '');
  const internal = state.options.internalUrl.replace(/\/$/, '');
  const domain = labDomain(state.options);
  const settings: Record<string, string> = u
    ? {
        UserDisplayName: u.displayName ?? u.sAMAccountName,
        UserDN: `/o=Lab/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=${u.sAMAccountName}`,
        MailboxDN: `/o=Lab/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=${mailboxGuidOf(u)}@${domain}/cn=Microsoft Private MDB`,
        AutoDiscoverSMTPAddress: u.mail,
        InternalEwsUrl: `${internal}/EWS/Exchange.asmx`,
        ExternalEwsUrl: `${external}/EWS/Exchange.asmx`,
        EwsSupportedSchemas: SUPPORTED_SCHEMAS,
        InternalMailboxServer: new URL(internal).hostname,
        ExternalMailboxServer: new URL(external).hostname,
        MapiHttpEnabled: 'true',
        InternalMapiHttpUrl: `${internal}/mapi/emsmdb/?MailboxId=${mailboxGuidOf(u)}@${domain}`,
        ExternalMapiHttpUrl: `${external}/mapi/emsmdb/?MailboxId=${mailboxGuidOf(u)}@${domain}`,
      }
    : {};
  const wanted = new Set(findAll(doc, 'Setting').filter((k) => k in settings));
  const userSettings = [...wanted]
    .map((k) => `<UserSetting i:type="StringSetting"><Name>${k}</Name><Value>${xml(settings[k]!)}</Value></UserSetting>`)
    .join('');
  const userResponse = u
    ? `<UserResponse><ErrorCode>NoError</ErrorCode><ErrorMessage>No error.</ErrorMessage><RedirectTarget i:nil="true"/><UserSettingErrors/><UserSettings>${userSettings}</UserSettings></UserResponse>`
    : `<UserResponse><ErrorCode>InvalidUser</ErrorCode><ErrorMessage>Invalid user: '${xml(mailbox)}'</ErrorMessage><RedirectTarget i:nil="true"/><UserSettingErrors/><UserSettings/></UserResponse>`;
  const body = `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action s:mustUnderstand="1">http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse</a:Action><h:ServerVersionInfo xmlns:h="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><h:MajorVersion>${BUILD.major}</h:MajorVersion><h:MinorVersion>${BUILD.minor}</h:MinorVersion><h:MajorBuildNumber>${BUILD.build}</h:MajorBuildNumber><h:MinorBuildNumber>${BUILD.revision}</h:MinorBuildNumber><h:Version>Exchange2015</h:Version></h:ServerVersionInfo></s:Header><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><ErrorCode>NoError</ErrorCode><ErrorMessage/><UserResponses>${userResponse}</UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>`;
  res.send(200, 'OK', body, 'text/xml; charset=utf-8', [], true);
}

const JSON_PROTOCOLS: Record<string, string> = {
  autodiscoverv1: '/autodiscover/autodiscover.xml',
  ews: '/EWS/Exchange.asmx',
  activesync: '/Microsoft-Server-ActiveSync',
};

/** GET /autodiscover/autodiscover.json/v1.0/<smtp>?Protocol=… (anonymous, as on Exchange 2019). */
export function handleJson(state: LabState, req: LabRequest, res: LabResponse): void {
  const params = new URLSearchParams(req.query);
  const protocol = [...params.entries()].find(([k]) => k.toLowerCase() === 'protocol')?.[1] ?? '';
  const target = JSON_PROTOCOLS[protocol.toLowerCase()];
  if (!target) {
    res.send(
      400,
      'Bad Request',
      JSON.stringify({ ErrorCode: 'InvalidProtocol', ErrorMessage: `The given protocol value '${protocol}' is invalid. Supported values are 'AutodiscoverV1, ActiveSync, Ews'.` }),
      'application/json; charset=utf-8',
    );
    return;
  }
  const name = protocol.toLowerCase() === 'ews' ? 'EWS' : protocol.toLowerCase() === 'activesync' ? 'ActiveSync' : 'AutodiscoverV1';
  res.send(200, 'OK', JSON.stringify({ Protocol: name, Url: `${state.externalUrl.replace(/\/$/, '')}${target}` }), 'application/json; charset=utf-8');
}
