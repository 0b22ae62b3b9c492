// POX Autodiscover (Outlook and mobilesync schemas) rewritten for one user in one zone: Protocol
// blocks and URLs the user may not use from there are removed, internal names are mapped to the
// published ones, and everything else stays byte for byte as Exchange sent it.
import { type Edit, type XmlElement, applyEdits, child, escapeText, removal, scanXml, textOf } from './xml-scan.js';
import type { Protocol } from '../vocabulary/protocols.js';
import { noOutlookProtocolAnswer } from './pox-error.js';
import { type RewriteContext, type Rewritten, isUrl, mapHost, mapUrl, protocolOfName } from './rewrite-context.js';

/** Elements whose text is a host name (not a URL). */
const HOST_ELEMENTS = new Set(['Server', 'PublicFolderServer', 'AD']);

/** Maps or removes every URL and host below `el`, and removes URLs of protocols the user may not use. */
function rewriteLeaves(text: string, el: XmlElement, ctx: RewriteContext, edits: Edit[]): void {
  for (const c of el.children) {
    if (c.children.length > 0) {
      rewriteLeaves(text, c, ctx, edits);
      continue;
    }
    const p = protocolOfName(c.name);
    if (p && p !== 'rpc' && !ctx.may(p)) {
      edits.push(removal(text, c));
      continue;
    }
    const value = textOf(text, c);
    let mapped: string | undefined = value;
    if (isUrl(value)) mapped = mapUrl(value, ctx);
    else if (HOST_ELEMENTS.has(c.name) && value && !value.includes('@')) mapped = mapHost(value.trim(), ctx);
    if (mapped === undefined) edits.push(removal(text, c));
    else if (mapped !== value) edits.push({ start: c.innerStart, end: c.innerEnd, replacement: escapeText(mapped) });
  }
}

function protocolType(text: string, p: XmlElement): string {
  const t = child(p, 'Type');
  return (t ? textOf(text, t) : p.attrs.get('Type') ?? '').trim();
}

function checkRedirects(text: string, container: XmlElement, ctx: RewriteContext): string | undefined {
  for (const el of container.children) {
    if (/^Redirect(Url)?$/i.test(el.name) && isUrl(textOf(text, el))) {
      const v = textOf(text, el);
      if (mapUrl(v, ctx) !== v.trim() && ctx.zone === 'external') return `redirect to an unpublished name: ${v}`;
    }
    if (/^Redirect(Addr)?$/i.test(el.name) && !isUrl(textOf(text, el))) {
      const domain = textOf(text, el).split('@')[1]?.trim().toLowerCase();
      if (!domain || !ctx.acceptedDomains.includes(domain)) return `redirect to an address outside the accepted domains: ${textOf(text, el)}`;
    }
  }
  return undefined;
}

/** Protocols an Outlook-schema answer is about; a user allowed none of them is told of none. */
const OUTLOOK_PROTOCOLS: readonly Protocol[] = ['rpc', 'mapi', 'ews', 'oab'];

function isRedirect(text: string, account: XmlElement): boolean {
  const action = child(account, 'Action');
  return action !== undefined && /^redirect(Addr|Url)$/i.test(textOf(text, action).trim());
}

export function rewritePox(text: string, ctx: RewriteContext): Rewritten {
  const doc = scanXml(text);
  if (!doc.ok) return { ok: false, error: `malformed Autodiscover XML: ${doc.error}` };
  if (doc.root.name !== 'Autodiscover') return { ok: false, error: `unexpected root element <${doc.root.name}>` };
  const response = child(doc.root, 'Response');
  if (!response) return { ok: false, error: 'Autodiscover answer without <Response>' };
  const edits: Edit[] = [];
  const account = child(response, 'Account');
  const action = child(response, 'Action');
  if (account) {
    const bad = checkRedirects(text, account, ctx);
    if (bad) return { ok: false, error: bad };
    // A settings answer (not a redirect) for a user who may use none of Outlook's protocols: even a
    // trimmed EXCH block would still name the mailbox server, ServerDN and MdbDN.
    if (!isRedirect(text, account) && !OUTLOOK_PROTOCOLS.some((p) => ctx.may(p))) return { ok: true, text: noOutlookProtocolAnswer() };
    for (const p of account.children.filter((c) => c.name === 'Protocol')) {
      const type = protocolType(text, p);
      const drop =
        ((type === 'EXPR' || type === 'EXHTTP') && !ctx.may('rpc')) || (type === 'mapiHttp' && !ctx.may('mapi')) || (type === 'WEB' && !ctx.may('owa'));
      if (drop) edits.push(removal(text, p));
      else rewriteLeaves(text, p, ctx, edits);
    }
  } else if (action) {
    // mobilesync schema: Action/Settings/Server (Type MobileSync) or Action/Redirect.
    const bad = checkRedirects(text, action, ctx);
    if (bad) return { ok: false, error: bad };
    const settings = child(action, 'Settings');
    for (const s of settings?.children.filter((c) => c.name === 'Server') ?? []) {
      if (protocolType(text, s) === 'MobileSync' && !ctx.may('eas')) edits.push(removal(text, s));
      else rewriteLeaves(text, s, ctx, edits);
    }
  }
  return { ok: true, text: applyEdits(text, edits) };
}
