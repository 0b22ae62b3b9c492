import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import { formatProblem } from '../config/yaml-source.js';
import { loadDirectoryFile } from './file-directory.js';
import { fileProvider } from './file-provider.js';
import { LdapDirectory } from './ldap-provider.js';
import type { DirectoryProvider } from './provider.js';

export type BuildResult = { readonly ok: true; readonly provider: DirectoryProvider } | { readonly ok: false; readonly problems: string[] };

/** Builds the configured directory; an absent directory section means "nobody is known". */
export function buildDirectory(config: GatewayConfig, log: Logger): BuildResult {
  const d = config.directory;
  if (!d) {
    return {
      ok: true,
      provider: {
        name: 'none',
        domains: { netbios: [], upnSuffixes: [] },
        lookup: async () => ({ status: 'unknown-domain' }),
        close: async () => {},
      },
    };
  }
  if (d.provider === 'file') {
    const r = loadDirectoryFile(d.file);
    return r.ok ? { ok: true, provider: fileProvider(r.directory) } : { ok: false, problems: r.problems.map(formatProblem) };
  }
  try {
    const policyGroups = [...new Set(config.policy.rules.flatMap((r) => r.groups ?? []))];
    return { ok: true, provider: new LdapDirectory(d, log, Date.now, { policyGroups }) };
  } catch (e) {
    return { ok: false, problems: [`ldap directory: ${(e as Error).message}`] };
  }
}

/**
 * What makes an LDAP directory the same one after a reload: its settings, the groups the policy
 * names (the provider warns about unseen ones) and the contents of the files it reads (a rotated
 * service-account password or CA must take effect). A reload that leaves this unchanged keeps the
 * running provider, its warm cache and its bound pool: otherwise every reload would send all users
 * to the DC again, a small login storm. undefined for other directories (never kept).
 */
export function ldapDirectoryKey(config: GatewayConfig): string | undefined {
  const d = config.directory;
  if (d?.provider !== 'ldap') return undefined;
  const h = createHash('sha256').update(JSON.stringify(d));
  h.update(JSON.stringify([...new Set(config.policy.rules.flatMap((r) => r.groups ?? []))].sort()));
  for (const f of [d.bindPasswordFile, d.ca]) {
    if (!f) continue;
    try {
      h.update(readFileSync(f));
    } catch {
      return undefined; // unreadable now: build anew, which reports the problem
    }
  }
  return h.digest('hex');
}
