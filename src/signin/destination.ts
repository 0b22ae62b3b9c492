// Where the browser goes after signing in. Never another site: only a path on this host, under a
// virtual directory behind the sign-in page (the sign-in page must not be an open redirect).
import type { SigninProtocol } from './signin-schema.js';

const MAX = 2048;

export function safeDestination(raw: string | null | undefined, protocols: readonly SigninProtocol[]): string {
  const fallback = `/${protocols[0] ?? 'owa'}/`;
  if (!raw || raw.length > MAX || !raw.startsWith('/') || raw.startsWith('//') || /[\\\x00-\x20\x7f]/.test(raw)) return fallback;
  let path: string;
  try {
    // Decoded the way a browser resolves it: "/%2f%2fevil" must not become "//evil".
    path = decodeURIComponent(raw.split(/[?#]/)[0]!).toLowerCase();
  } catch {
    return fallback;
  }
  if (path.startsWith('//') || path.includes('\\') || path.split('/').includes('..')) return fallback;
  return protocols.some((p) => path === `/${p}` || path.startsWith(`/${p}/`)) ? raw : fallback;
}

/** The virtual directory a destination belongs to (what the policy is asked about at sign-in). */
export function protocolOf(destination: string, protocols: readonly SigninProtocol[]): SigninProtocol {
  const path = destination.toLowerCase();
  return protocols.find((p) => path === `/${p}` || path.startsWith(`/${p}/`) || path.startsWith(`/${p}?`)) ?? protocols[0] ?? 'owa';
}
