// Path canonicalisation the way IIS sees a URL: percent-decoding, backslash as slash, dot segments,
// case folding. Exchange's path-confusion exploits (ProxyShell and friends) live in the gap between
// what a proxy matched and what IIS executed, so anything that does not decode cleanly is refused.

export type NormalizedTarget =
  | { readonly ok: true; readonly path: string; readonly query: string }
  | { readonly ok: false; readonly reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Splits the request-target and canonicalises its path; the query is returned raw. */
export function normalizeTarget(target: string): NormalizedTarget {
  if (target === '*') return { ok: true, path: '*', query: '' };
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  const bytes: number[] = [];
  for (let i = 0; i < rawPath.length; i++) {
    const c = rawPath.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(rawPath.charCodeAt(i + 1));
      const lo = hexValue(rawPath.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return { ok: false, reason: 'malformed percent-encoding in path' };
      const b = hi * 16 + lo;
      if (b === 0x25) return { ok: false, reason: 'double percent-encoding in path' };
      if (b < 0x20 || b === 0x7f) return { ok: false, reason: 'encoded control character in path' };
      bytes.push(b);
      i += 2;
    } else {
      bytes.push(c);
    }
  }
  let decoded: string;
  try {
    decoded = utf8.decode(Uint8Array.from(bytes));
  } catch {
    return { ok: false, reason: 'path is not valid UTF-8 (overlong or truncated sequence)' };
  }
  if (decoded.includes('\uFFFD')) return { ok: false, reason: 'path contains a replacement character' };
  const segments = decoded.replace(/\\/g, '/').split('/');
  const out: string[] = [];
  for (const seg of segments) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return { ok: false, reason: 'dot segments climb above the root' };
      out.pop();
      continue;
    }
    // IIS strips trailing dots and spaces from segments; a segment that only differs that way is a
    // disguise, not a different resource.
    if (/[. ]$/.test(seg)) return { ok: false, reason: 'path segment ends in a dot or space' };
    if (seg.includes(':')) return { ok: false, reason: 'colon in a path segment (alternate data stream)' };
    out.push(seg.toLowerCase());
  }
  const trailing = decoded.endsWith('/') && out.length > 0 ? '/' : '';
  return { ok: true, path: '/' + out.join('/') + trailing, query };
}
