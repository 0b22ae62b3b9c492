// Which canonical paths a protocol really serves, as data. A rule covers one exact path or a whole
// folder ('/' at the end; '*' stands for one segment such as a version folder or an OAB GUID). The
// first rule whose path covers the request decides, so a static folder listed before its parent
// keeps its own, tighter rule.
//
// Handler extensions are checked in every segment, not only the last one: IIS runs
// `/owa/auth/x/shell.aspx/logo.png` as shell.aspx with PATH_INFO /logo.png.

export interface PathRule {
  /** Canonical (lower-case) path: exact, or a folder when it ends in '/'. '*' is one whole segment. */
  readonly path: string;
  /**
   * Below this folder, the only dynamic handlers that may run (see DYNAMIC_EXTENSIONS), as paths
   * relative to the folder; '*' matches within one segment ('*.aspx', '*\/*.svc'). Any other
   * handler is refused; path info after an allowed handler may not name another one.
   * Omitted: no limit (the meaning of a plain string entry).
   */
  readonly handlers?: readonly string[];
  /** Below this folder, every other request must name a file with one of these extensions. Omitted: any. */
  readonly extensions?: readonly string[];
  /** A first segment holding '@' is a mailbox (OWA/ECP explicit logon, /owa/shared@contoso.com/) and is skipped. */
  readonly explicitLogon?: boolean;
}

/** A plain string keeps its historical meaning: exact, or every path below it when it ends in '/'. */
export type PathEntry = string | PathRule;

/**
 * Extensions IIS hands to an executable handler rather than the static file module: ASP.NET
 * (page, handler, service, config files it refuses to serve), classic ASP and SSI (.cer and .cdx
 * are mapped to asp.dll by default), ISAPI/CGI, the handlers of other stacks web shells are named
 * after, and Exchange's own virtual handlers (OWA's .owa/.owa2, ECP's .ecp, EAS's .eas, OWA's .reco).
 */
export const DYNAMIC_EXTENSIONS: ReadonlySet<string> = new Set([
  'aspx', 'ashx', 'asmx', 'asax', 'ascx', 'axd', 'svc', 'soap', 'rem', 'xamlx', 'xoml', 'cshtml', 'vbhtml', 'master', 'config',
  'asp', 'asa', 'cer', 'cdx', 'shtml', 'shtm', 'stm', 'idc', 'htr',
  'dll', 'exe', 'cgi', 'pl', 'php', 'phtml', 'jsp', 'jspx',
  'owa', 'owa2', 'ecp', 'eas', 'reco',
]);

interface CompiledRule {
  /** Length of the matched prefix, or -1. */
  readonly match: (path: string) => number;
  readonly exact: boolean;
  readonly handlers: readonly RegExp[] | undefined;
  readonly extensions: ReadonlySet<string> | undefined;
  readonly explicitLogon: boolean;
}

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

function compileRule(entry: PathEntry): CompiledRule {
  const rule: PathRule = typeof entry === 'string' ? { path: entry } : entry;
  const path = rule.path.toLowerCase();
  const exact = !path.endsWith('/');
  let match: CompiledRule['match'];
  if (!path.includes('*')) {
    match = exact ? (p) => (p === path ? p.length : -1) : (p) => (p.startsWith(path) ? path.length : -1);
  } else {
    const re = new RegExp(`^${path.split('*').map(escape).join('[^/]+')}${exact ? '$' : ''}`);
    match = (p) => re.exec(p)?.[0].length ?? -1;
  }
  return {
    match,
    exact,
    handlers: rule.handlers?.map((h) => new RegExp(`^${h.toLowerCase().split('*').map(escape).join('[^/]*')}$`)),
    extensions: rule.extensions ? new Set(rule.extensions.map((e) => e.toLowerCase().replace(/^\./, ''))) : undefined,
    explicitLogon: rule.explicitLogon ?? false,
  };
}

function extensionOf(segment: string): string {
  const dot = segment.lastIndexOf('.');
  return dot < 0 ? '' : segment.slice(dot + 1);
}

function allows(rule: CompiledRule, path: string, restStart: number): boolean {
  if (rule.exact || (!rule.handlers && !rule.extensions)) return true;
  const segments = path.slice(restStart).split('/');
  if (segments[segments.length - 1] === '') segments.pop();
  const dynamic: number[] = [];
  for (let i = 0; i < segments.length; i++) if (DYNAMIC_EXTENSIONS.has(extensionOf(segments[i]!))) dynamic.push(i);
  if (dynamic.length === 0) {
    if (!rule.extensions) return true;
    const last = segments[segments.length - 1];
    return last !== undefined && rule.extensions.has(extensionOf(last));
  }
  if (dynamic.length > 1 || !rule.handlers) return false;
  const from = rule.explicitLogon && segments.length > 1 && segments[0]!.includes('@') ? 1 : 0;
  if (dynamic[0]! < from) return false;
  const handler = segments.slice(from, dynamic[0]! + 1).join('/');
  return rule.handlers.some((h) => h.test(handler));
}

const compiled = new WeakMap<readonly PathEntry[], readonly CompiledRule[]>();

function compileList(entries: readonly PathEntry[]): readonly CompiledRule[] {
  let list = compiled.get(entries);
  if (!list) compiled.set(entries, (list = entries.map(compileRule)));
  return list;
}

/** What the first rule covering this canonical path says: `undefined` when no rule covers it. */
export function ruleVerdict(path: string, entries: readonly PathEntry[]): boolean | undefined {
  for (const rule of compileList(entries)) {
    const m = rule.match(path);
    if (m >= 0) return allows(rule, path, m);
  }
  return undefined;
}

/** Whether the canonical path is published: the first rule covering it must allow it. */
export function pathAllowed(path: string, entries: readonly PathEntry[]): boolean {
  return ruleVerdict(path, entries) ?? false;
}

/** Whether any segment of the canonical path names a dynamic handler. */
export function hasDynamicSegment(path: string): boolean {
  if (!path.includes('.')) return false; // most requests: /owa/, /mapi/emsmdb/, /Microsoft-Server-ActiveSync
  for (const segment of path.split('/')) if (DYNAMIC_EXTENSIONS.has(extensionOf(segment))) return true;
  return false;
}
