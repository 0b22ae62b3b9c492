// SOAP GetUserSettings answers (EWS clients' Autodiscover) under the same rules as POX: settings of
// protocols the user may not use are removed, URLs and hosts mapped to published names.
import { type Edit, type XmlElement, applyEdits, child, descendants, escapeText, removal, scanXml, textOf } from './xml-scan.js';
import { type RewriteContext, type Rewritten, isUrl, mapHost, mapUrl, protocolOfName } from './rewrite-context.js';

function rewriteValues(text: string, el: XmlElement, ctx: RewriteContext, edits: Edit[], hostValued: boolean): boolean {
  let kept = false;
  for (const c of el.children) {
    if (c.children.length > 0) {
      kept = rewriteValues(text, c, ctx, edits, hostValued) || kept;
      continue;
    }
    if (c.name === 'Name' || c.name === 'Protocol' || c.name === 'AuthenticationMethods') {
      kept = true;
      continue;
    }
    const v = textOf(text, c);
    const mapped = isUrl(v) ? mapUrl(v, ctx) : hostValued && v && !v.includes('@') ? mapHost(v.trim(), ctx) : v;
    if (mapped === undefined) edits.push(removal(text, c));
    else {
      kept = true;
      if (mapped !== v) edits.push({ start: c.innerStart, end: c.innerEnd, replacement: escapeText(mapped) });
    }
  }
  return kept;
}

export function rewriteSoap(text: string, ctx: RewriteContext): Rewritten {
  const doc = scanXml(text);
  if (!doc.ok) return { ok: false, error: `malformed SOAP Autodiscover XML: ${doc.error}` };
  const edits: Edit[] = [];
  for (const response of descendants(doc.root, 'UserResponse')) {
    const target = child(response, 'RedirectTarget');
    if (target && isUrl(textOf(text, target)) && ctx.zone === 'external' && mapUrl(textOf(text, target), ctx) !== textOf(text, target).trim()) {
      return { ok: false, error: `redirect to an unpublished name: ${textOf(text, target)}` };
    }
    for (const setting of descendants(response, 'UserSetting')) {
      const nameEl = child(setting, 'Name');
      const name = nameEl ? textOf(text, nameEl).trim() : '';
      const p = protocolOfName(name);
      if (p && !ctx.may(p)) {
        edits.push(removal(text, setting));
        continue;
      }
      const hostValued = /Server$/.test(name);
      const kept = rewriteValues(text, setting, ctx, edits, hostValued);
      const valueLeft = descendants(setting, 'Value').some((v) => !edits.some((e) => e.start <= v.start && e.end >= v.end));
      if (!kept || (descendants(setting, 'Value').length > 0 && !valueLeft)) edits.push(removal(text, setting));
    }
  }
  return { ok: true, text: applyEdits(text, edits) };
}
