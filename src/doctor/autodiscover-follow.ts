// Following an Autodiscover candidate's redirects the way Outlook does: POST again to the new URL,
// https:// only, at most 10 hops, and only to names that resolve and that the certificate covers.
// The walk is a function of a `post` callback, so the rules are table-tested without a network.

export interface Answer {
  readonly status: number;
  readonly location: string | undefined;
  readonly contentType: string;
  readonly body: string;
  readonly exchangeLike: boolean;
  /** "HTTP/1.1 302 Found; …" for the evidence line. */
  readonly line: string;
}

export interface FollowRules {
  /** Does the name resolve (and is it one clients can reach)? */
  resolves(host: string): Promise<boolean>;
  /** Is the name covered by the published certificate? */
  covered(host: string): boolean;
}

export type FollowEnd =
  | { readonly kind: 'answer'; readonly url: string; readonly answer: Answer }
  | { readonly kind: 'loop'; readonly url: string }
  | { readonly kind: 'too-many'; readonly url: string }
  | { readonly kind: 'wrong'; readonly url: string; readonly why: string }
  | { readonly kind: 'error'; readonly url: string; readonly message: string };

export interface FollowResult {
  readonly end: FollowEnd;
  /** The URLs visited, first the candidate, then each Location. */
  readonly chain: readonly string[];
  readonly lines: readonly string[];
}

export const MAX_REDIRECTS = 10;

export async function followAutodiscover(start: string, post: (url: URL) => Promise<Answer>, rules: FollowRules): Promise<FollowResult> {
  const chain = [start];
  const lines: string[] = [];
  let url = start;
  for (;;) {
    let a: Answer;
    try {
      a = await post(new URL(url));
    } catch (e) {
      return { end: { kind: 'error', url, message: (e as NodeJS.ErrnoException).code ?? (e as Error).message }, chain, lines };
    }
    lines.push(`${url}: ${a.line}${a.location ? `; Location: ${a.location}` : ''}`);
    if (a.status < 300 || a.status >= 400 || !a.location) return { end: { kind: 'answer', url, answer: a }, chain, lines };
    let next: URL;
    try {
      next = new URL(a.location, url);
    } catch {
      return { end: { kind: 'wrong', url: a.location, why: 'the Location header is not a URL' }, chain, lines };
    }
    const target = next.href;
    if (chain.includes(target)) {
      chain.push(target);
      return { end: { kind: 'loop', url: target }, chain, lines };
    }
    chain.push(target);
    if (chain.length - 1 > MAX_REDIRECTS) return { end: { kind: 'too-many', url: target }, chain, lines };
    if (next.protocol !== 'https:') return { end: { kind: 'wrong', url: target, why: 'Outlook follows Autodiscover redirects to https:// only' }, chain, lines };
    const host = next.hostname.replace(/^\[|\]$/g, '');
    if (!(await rules.resolves(host))) return { end: { kind: 'wrong', url: target, why: `${host} does not resolve` }, chain, lines };
    if (!rules.covered(host)) return { end: { kind: 'wrong', url: target, why: `the certificate does not cover ${host}` }, chain, lines };
    if (!/\/autodiscover\/autodiscover\.xml$/i.test(next.pathname)) {
      // Follow once more to show where it leads (a login page, a web site), then name it.
      const b = await post(next).catch(() => undefined);
      if (b) lines.push(`${target}: ${b.line}${b.location ? `; Location: ${b.location}` : ''}`);
      return { end: { kind: 'wrong', url: target, why: `${next.pathname} is not an Autodiscover URL${b && isHtml(b) ? ' (it answers with an HTML page)' : ''}` }, chain, lines };
    }
    url = target;
  }
}

export function isHtml(a: Pick<Answer, 'contentType' | 'body'>): boolean {
  return /text\/html/i.test(a.contentType) || /^\s*(<!doctype html|<html)/i.test(a.body);
}
