// Exchange's diagnostic response headers, removed before an answer reaches a client in a zone that
// must not learn them. They name the front-end and back-end servers (X-FEServer, X-BEServer,
// X-CalculatedBETarget, X-DiagInfo), versions (X-OWA-Version, X-AspNet-Version, Server) and the
// proxy's internal state; exploit kits read X-CalculatedBETarget and X-FEServer to find the
// back-end name their SSRF needs. Runs on every forwarded response, so it allocates nothing when
// nothing is stripped.
import type { HeaderField } from '../http/headers.js';

export { DEFAULT_STRIPPED_HEADERS } from '../classify/diagnostic-headers.js';

export type HeaderFilter = (headers: readonly HeaderField[]) => readonly HeaderField[] | undefined;

/** Case-insensitive ASCII prefix test without building a lower-case copy. */
function startsWithLower(name: string, lowerPrefix: string): boolean {
  if (name.length < lowerPrefix.length) return false;
  for (let i = 0; i < lowerPrefix.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lowerPrefix.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * A filter for these header names (case-insensitive; an entry ending in '*' is a prefix). It
 * returns the kept headers, or undefined when none was removed (the common case: no copy).
 */
export function compileHeaderFilter(names: readonly string[]): HeaderFilter | undefined {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const n of names) {
    const lower = n.toLowerCase();
    if (lower.endsWith('*')) prefixes.push(lower.slice(0, -1));
    else exact.add(lower);
  }
  if (exact.size === 0 && prefixes.length === 0) return undefined;
  // Only names whose length some entry has are lower-cased and looked up.
  const lengths = new Set([...exact].map((n) => n.length));
  const strip = (name: string): boolean => {
    if (lengths.has(name.length) && exact.has(name.toLowerCase())) return true;
    for (const p of prefixes) if (startsWithLower(name, p)) return true;
    return false;
  };
  return (headers) => {
    let i = 0;
    while (i < headers.length && !strip(headers[i]!.name)) i++;
    if (i === headers.length) return undefined;
    const kept = headers.slice(0, i);
    for (i++; i < headers.length; i++) if (!strip(headers[i]!.name)) kept.push(headers[i]!);
    return kept;
  };
}
