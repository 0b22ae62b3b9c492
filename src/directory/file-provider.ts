import type { FileDirectory } from './file-directory.js';
import type { DirectoryUser } from './file-schema.js';
import { type Claim, type DirectoryEntry, type DirectoryProvider, type LookupResult, claimForm } from './provider.js';

export function entryOf(dir: FileDirectory, u: DirectoryUser): DirectoryEntry {
  return {
    key: `${u.domain.toUpperCase()}\\${u.sAMAccountName.toLowerCase()}`,
    domain: u.domain.toUpperCase(),
    sam: u.sAMAccountName,
    upn: u.userPrincipalName,
    mail: u.mail,
    enabled: u.enabled,
    groups: dir.groupsOf(u),
  };
}

/** The embedded default directory: a validated YAML file held in memory (reloaded as a whole). */
export function fileProvider(dir: FileDirectory): DirectoryProvider {
  const domains = {
    netbios: dir.data.domains.netbios.map((d) => d.toLowerCase()),
    upnSuffixes: dir.data.domains.upnSuffixes.map((d) => d.toLowerCase()),
  };
  return {
    name: 'file',
    domains,
    async lookup(claim: Claim): Promise<LookupResult> {
      const form = claimForm(claim, domains);
      if (form.kind === 'unknown-domain') return { status: 'unknown-domain' };
      const u = form.kind === 'upn' ? dir.byUserPrincipalName(form.upn) : dir.byDownLevel(form.domain, form.sam);
      return u ? { status: 'found', entry: entryOf(dir, u) } : { status: 'not-found' };
    },
    async close() {},
  };
}
