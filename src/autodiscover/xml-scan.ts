// An offset-preserving XML element scanner. The Autodiscover rewriter removes and edits elements
// in place and must leave every other byte as Exchange sent it (order, namespaces, whitespace);
// parsers rebuild documents, so they cannot promise that. Well-formedness itself is checked with
// fast-xml-parser's validator before this runs.

export interface XmlElement {
  /** Local name (prefix removed). */
  readonly name: string;
  readonly attrs: ReadonlyMap<string, string>;
  /** Offset of '<' of the start tag. */
  readonly start: number;
  /** Offset just past the end tag (or the self-closing start tag). */
  readonly end: number;
  /** Offsets of the content between the tags. */
  readonly innerStart: number;
  readonly innerEnd: number;
  readonly children: XmlElement[];
}

export type ScanResult = { readonly ok: true; readonly root: XmlElement } | { readonly ok: false; readonly error: string };

const NAME = /^[^\s/>=]+/;
const ATTR = /\s*([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*')/y;

function localName(q: string): string {
  const i = q.indexOf(':');
  return i < 0 ? q : q.slice(i + 1);
}

/** Scans a document into elements with offsets. Refuses DTDs (no entities, no XXE). */
export function scanXml(text: string): ScanResult {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) return { ok: false, error: 'DOCTYPE or ENTITY declarations are not accepted' };
  const stack: Array<{ name: string; qname: string; attrs: Map<string, string>; start: number; innerStart: number; children: XmlElement[] }> = [];
  const top: XmlElement[] = [];
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      const e = text.indexOf('-->', lt + 4);
      if (e < 0) return { ok: false, error: 'unterminated comment' };
      i = e + 3;
    } else if (text.startsWith('<![CDATA[', lt)) {
      const e = text.indexOf(']]>', lt + 9);
      if (e < 0) return { ok: false, error: 'unterminated CDATA section' };
      i = e + 3;
    } else if (text.startsWith('<?', lt)) {
      const e = text.indexOf('?>', lt + 2);
      if (e < 0) return { ok: false, error: 'unterminated processing instruction' };
      i = e + 2;
    } else if (text[lt + 1] === '/') {
      const gt = text.indexOf('>', lt);
      if (gt < 0) return { ok: false, error: 'unterminated end tag' };
      const qname = text.slice(lt + 2, gt).trim();
      const open = stack.pop();
      if (!open || open.qname !== qname) return { ok: false, error: `mismatched end tag </${qname}>` };
      const el: XmlElement = { name: open.name, attrs: open.attrs, start: open.start, end: gt + 1, innerStart: open.innerStart, innerEnd: lt, children: open.children };
      (stack.length ? stack[stack.length - 1]!.children : top).push(el);
      i = gt + 1;
    } else {
      const m = NAME.exec(text.slice(lt + 1, lt + 257));
      if (!m) return { ok: false, error: `malformed tag at offset ${lt}` };
      const qname = m[0];
      let j = lt + 1 + qname.length;
      const attrs = new Map<string, string>();
      ATTR.lastIndex = j;
      for (let a = ATTR.exec(text); a; a = ATTR.exec(text)) {
        attrs.set(localName(a[1]!), a[2]!.slice(1, -1));
        j = ATTR.lastIndex;
      }
      while (j < text.length && /\s/.test(text[j]!)) j++;
      const selfClosing = text.startsWith('/>', j);
      if (!selfClosing && text[j] !== '>') return { ok: false, error: `malformed attributes in <${qname}>` };
      const afterTag = selfClosing ? j + 2 : j + 1;
      if (selfClosing) {
        const el: XmlElement = { name: localName(qname), attrs, start: lt, end: afterTag, innerStart: afterTag, innerEnd: afterTag, children: [] };
        (stack.length ? stack[stack.length - 1]!.children : top).push(el);
      } else {
        if (stack.length > 64) return { ok: false, error: 'elements nested too deeply' };
        stack.push({ name: localName(qname), qname, attrs, start: lt, innerStart: afterTag, children: [] });
      }
      i = afterTag;
    }
  }
  if (stack.length > 0) return { ok: false, error: `unclosed element <${stack[stack.length - 1]!.qname}>` };
  if (top.length !== 1) return { ok: false, error: 'a document needs exactly one root element' };
  return { ok: true, root: top[0]! };
}

/** Text content of a leaf element (entities decoded for the five predefined ones). */
export function textOf(text: string, el: XmlElement): string {
  return text
    .slice(el.innerStart, el.innerEnd)
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

export function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

export function descendants(el: XmlElement, name: string, out: XmlElement[] = []): XmlElement[] {
  for (const c of el.children) {
    if (c.name === name) out.push(c);
    descendants(c, name, out);
  }
  return out;
}

export interface Edit {
  readonly start: number;
  readonly end: number;
  readonly replacement: string;
}

/** Applies non-overlapping edits; an element removal also takes the whitespace line it sat on. */
export function applyEdits(text: string, edits: readonly Edit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const e of sorted) {
    if (e.start < at) continue; // nested inside an earlier removal
    out += text.slice(at, e.start) + e.replacement;
    at = e.end;
  }
  return out + text.slice(at);
}

/** An edit removing an element together with the indentation before it and its line break. */
export function removal(text: string, el: XmlElement): Edit {
  let start = el.start;
  while (start > 0 && (text[start - 1] === ' ' || text[start - 1] === '\t')) start--;
  let end = el.end;
  if (text[end] === '\r') end++;
  if (text[end] === '\n' && (start === 0 || text[start - 1] === '\n')) end++;
  else if (start !== el.start && text[start - 1] !== '\n') start = el.start;
  return { start, end, replacement: '' };
}
