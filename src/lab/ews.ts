// Enough of EWS for exchangelib to connect and run simple calls: GetFolder (distinguished
// folders), ResolveNames, and ConvertId for its version probe. Everything else gets a SOAP fault.
import { XMLParser } from 'fast-xml-parser';
import { createHash } from 'node:crypto';
import type { LabRequest, LabResponse } from './lab-http.js';
import type { LabState } from './lab-context.js';

const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: false, attributeNamePrefix: '@', processEntities: false });
const M = 'http://schemas.microsoft.com/exchange/services/2006/messages';
const T = 'http://schemas.microsoft.com/exchange/services/2006/types';

const FOLDERS: Record<string, { name: string; cls: string }> = {
  root: { name: 'Root', cls: '' },
  msgfolderroot: { name: 'Top of Information Store', cls: 'IPF.Note' },
  inbox: { name: 'Inbox', cls: 'IPF.Note' },
  sentitems: { name: 'Sent Items', cls: 'IPF.Note' },
  drafts: { name: 'Drafts', cls: 'IPF.Note' },
  deleteditems: { name: 'Deleted Items', cls: 'IPF.Note' },
  calendar: { name: 'Calendar', cls: 'IPF.Appointment' },
  contacts: { name: 'Contacts', cls: 'IPF.Contact' },
  tasks: { name: 'Tasks', cls: 'IPF.Task' },
};

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function envelope(body: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="2" MajorBuildNumber="1118" MinorBuildNumber="7" Version="V2017_07_11" xmlns:h="${T}" xmlns="${T}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}

function folderId(identity: string, name: string): string {
  return Buffer.from(createHash('sha256').update(`${identity}/${name}`).digest()).toString('base64');
}

function collect(obj: unknown, key: string, out: unknown[] = []): unknown[] {
  if (!obj || typeof obj !== 'object') return out;
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    if (k === key) out.push(...(Array.isArray(v) ? v : [v]));
    collect(v, key, out);
  }
  return out;
}

function getFolder(identity: string, body: unknown): string {
  const ids = collect(body, 'DistinguishedFolderId').map((d) => String((d as Record<string, unknown>)['@Id'] ?? ''));
  const messages = ids
    .map((id) => {
      const f = FOLDERS[id];
      if (!f) {
        return `<m:GetFolderResponseMessage ResponseClass="Error"><m:MessageText>The specified folder could not be found in the store.</m:MessageText><m:ResponseCode>ErrorFolderNotFound</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:GetFolderResponseMessage>`;
      }
      const tag = f.cls === 'IPF.Appointment' ? 'CalendarFolder' : f.cls === 'IPF.Contact' ? 'ContactsFolder' : f.cls === 'IPF.Task' ? 'TasksFolder' : 'Folder';
      return `<m:GetFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Folders><t:${tag}><t:FolderId Id="${folderId(identity, id)}" ChangeKey="AQAAAA=="/><t:ParentFolderId Id="${folderId(identity, 'root')}" ChangeKey="AQAAAA=="/>${f.cls ? `<t:FolderClass>${f.cls}</t:FolderClass>` : ''}<t:DisplayName>${f.name}</t:DisplayName><t:TotalCount>0</t:TotalCount><t:ChildFolderCount>0</t:ChildFolderCount>${tag === 'Folder' ? '<t:UnreadCount>0</t:UnreadCount>' : ''}</t:${tag}></m:Folders></m:GetFolderResponseMessage>`;
    })
    .join('');
  return `<m:GetFolderResponse xmlns:m="${M}" xmlns:t="${T}"><m:ResponseMessages>${messages}</m:ResponseMessages></m:GetFolderResponse>`;
}

function resolveNames(state: LabState, body: unknown): string {
  const entries = collect(body, 'UnresolvedEntry').map((e) => String(e));
  const messages = entries
    .map((entry) => {
      const q = entry.toLowerCase().replace(/^smtp:/, '');
      const hits = state.options.directory.data.users.filter(
        (u) => u.sAMAccountName.toLowerCase().startsWith(q) || u.mail.toLowerCase().startsWith(q) || (u.displayName ?? '').toLowerCase().startsWith(q),
      );
      if (hits.length === 0) {
        return `<m:ResolveNamesResponseMessage ResponseClass="Error"><m:MessageText>No results were found.</m:MessageText><m:ResponseCode>ErrorNameResolutionNoResults</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:ResolveNamesResponseMessage>`;
      }
      const res = hits
        .map((u) => `<t:Resolution><t:Mailbox><t:Name>${xml(u.displayName ?? u.sAMAccountName)}</t:Name><t:EmailAddress>${xml(u.mail)}</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox</t:MailboxType></t:Mailbox></t:Resolution>`)
        .join('');
      const cls = hits.length > 1 ? 'Warning' : 'Success';
      const code = hits.length > 1 ? 'ErrorNameResolutionMultipleResults' : 'NoError';
      return `<m:ResolveNamesResponseMessage ResponseClass="${cls}">${cls === 'Warning' ? '<m:MessageText>Multiple results were found.</m:MessageText>' : ''}<m:ResponseCode>${code}</m:ResponseCode>${cls === 'Warning' ? '<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>' : ''}<m:ResolutionSet TotalItemsInView="${hits.length}" IncludesLastItemInRange="true">${res}</m:ResolutionSet></m:ResolveNamesResponseMessage>`;
    })
    .join('');
  return `<m:ResolveNamesResponse xmlns:m="${M}" xmlns:t="${T}"><m:ResponseMessages>${messages}</m:ResponseMessages></m:ResolveNamesResponse>`;
}

function soapFault(code: string, text: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode xmlns:a="${T}">a:${code}</faultcode><faultstring xml:lang="en-US">${xml(text)}</faultstring></s:Fault></s:Body></s:Envelope>`;
}

export async function handleEws(state: LabState, identity: string, req: LabRequest, res: LabResponse): Promise<void> {
  if (req.method === 'GET') {
    res.send(200, 'OK', '<html><body>EWS lab endpoint</body></html>', 'text/html');
    return;
  }
  const text = (await req.body(8 * 1024 * 1024)).toString('utf8');
  if (/<!DOCTYPE/i.test(text)) {
    res.send(500, 'Internal Server Error', soapFault('ErrorInvalidRequest', 'DTDs are not allowed'), 'text/xml; charset=utf-8');
    return;
  }
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch {
    res.send(500, 'Internal Server Error', soapFault('ErrorSchemaValidation', 'The request failed schema validation.'), 'text/xml; charset=utf-8');
    return;
  }
  const body = (doc['Envelope'] as Record<string, unknown> | undefined)?.['Body'] as Record<string, unknown> | undefined;
  const op = body ? Object.keys(body).find((k) => !k.startsWith('@')) : undefined;
  const payload = op ? body![op] : undefined;
  if (op === 'GetFolder') res.send(200, 'OK', envelope(getFolder(identity, payload)), 'text/xml; charset=utf-8');
  else if (op === 'ResolveNames') res.send(200, 'OK', envelope(resolveNames(state, payload)), 'text/xml; charset=utf-8');
  else if (op === 'ConvertId') {
    res.send(
      200,
      'OK',
      envelope(`<m:ConvertIdResponse xmlns:m="${M}" xmlns:t="${T}"><m:ResponseMessages><m:ConvertIdResponseMessage ResponseClass="Error"><m:MessageText>Invalid id.</m:MessageText><m:ResponseCode>ErrorInvalidIdMalformed</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:ConvertIdResponseMessage></m:ResponseMessages></m:ConvertIdResponse>`),
      'text/xml; charset=utf-8',
    );
  } else res.send(500, 'Internal Server Error', soapFault('ErrorInvalidOperation', `The lab does not implement ${op ?? 'this request'}.`), 'text/xml; charset=utf-8');
}
