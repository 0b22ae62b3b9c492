import type { Logger } from 'pino';
import type { DirectoryConfig } from './directory-config.js';
import { formatProblem } from '../yaml/yaml-source.js';
import { loadDirectoryFile } from './file-directory.js';
import { fileProvider } from './file-provider.js';
import { LdapDirectory } from './ldap-provider.js';
import type { DirectoryProvider } from './provider.js';

export type BuildResult = { readonly ok: true; readonly provider: DirectoryProvider } | { readonly ok: false; readonly problems: string[] };

/** Builds the configured directory; an absent directory section means "nobody is known". */
export function buildDirectory(config: { readonly directory?: DirectoryConfig | undefined; readonly policy: { readonly rules: ReadonlyArray<{ readonly groups?: readonly string[] | undefined }> } }, log: Logger): BuildResult {
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
