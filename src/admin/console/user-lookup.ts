// The Users page's questions: search (the file directory by substring, LDAP by prefix through
// the provider, any directory by exact logon name), and one user's facts (groups with their nesting, the protocol × zone matrix from
// the policy's own evaluate, revocation, lockout, recent audit records).
import { loadDirectoryFile } from '../../directory/file-directory.js';
import type { DirectoryFile } from '../../directory/file-schema.js';
import { claimOfLogon } from '../../identity/basic.js';
import { PROTOCOLS } from '../../vocabulary/protocols.js';
import { ZONES } from '../../vocabulary/zones.js';
import type { Control } from '../control.js';
import type { ConsoleSources } from './console-sources.js';
import type { SearchHit, UserFacts } from './page-users.js';
import { groupChains } from './user-groups.js';

const MAX_HITS = 50;
/** Where each zone's decisions are asked from (rules with clientCidrs may see these). */
const ZONE_CLIENT = { external: '203.0.113.1', internal: '10.0.0.1' } as const;

let cached: { file: string; data: DirectoryFile; at: number } | undefined;

/** The file directory's data, re-read at most every 5 s (it is hot-reloaded on change). */
function fileDirectory(sources: ConsoleSources | undefined): DirectoryFile | undefined {
  const file = sources?.config?.().directoryFile;
  if (!file) return undefined;
  if (cached?.file === file && Date.now() - cached.at < 5000) return cached.data;
  const d = loadDirectoryFile(file);
  if (!d.ok) return cached?.file === file ? cached.data : undefined;
  cached = { file, data: d.directory.data, at: Date.now() };
  return cached.data;
}

export async function searchUsers(q: string, control: Control, sources: ConsoleSources | undefined): Promise<{ hits: SearchHit[]; note?: string }> {
  const data = fileDirectory(sources);
  const needle = q.toLowerCase().replace(/^.*\\/, '');
  if (data) {
    const hits = data.users
      .filter((u) => [u.sAMAccountName, u.userPrincipalName, u.mail, u.displayName ?? ''].some((v) => v.toLowerCase().includes(needle)))
      .slice(0, MAX_HITS)
      .map((u) => ({ key: `${u.domain.toUpperCase()}\\${u.sAMAccountName}`, name: u.displayName, mail: u.mail }));
    return { hits };
  }
  const dir = sources?.directory?.();
  // A prefix search of the LDAP directory for a name, else the exact logon the text is.
  if (dir?.searchUsers && /^[^\\@]{2,}$/.test(needle) && !q.includes('@')) {
    try {
      return { hits: [...(await dir.searchUsers(needle, MAX_HITS))] };
    } catch (e) {
      return { hits: [], note: `The directory is unavailable: ${(e as Error).message}` };
    }
  }
  const claim = claimOfLogon(q);
  const r = claim ? await control.lookup(claim) : undefined;
  if (r?.status === 'found') return { hits: [{ key: r.entry.key, name: undefined, mail: r.entry.mail }] };
  if (r?.status === 'unavailable') return { hits: [], note: `The directory is unavailable: ${r.reason}` };
  return { hits: [], note: dir?.searchUsers ? 'Type at least two letters of a name, or DOMAIN\\user or user@domain.' : 'Give DOMAIN\\user or user@domain.' };
}

export async function userFacts(name: string, control: Control, sources: ConsoleSources | undefined): Promise<UserFacts | { error: string }> {
  const claim = claimOfLogon(name.trim());
  if (!claim) return { error: 'Give the user as DOMAIN\\user or user@domain.' };
  const r = await control.lookup(claim);
  if (r.status === 'unavailable') return { error: `The directory is unavailable: ${r.reason}` };
  if (r.status !== 'found') return { error: `${name} ${r.status === 'unknown-domain' ? 'is in no domain this gateway serves' : 'is not in the directory'}.` };
  const key = r.entry.key;
  const data = fileDirectory(sources);
  const fileUser = data?.users.find((u) => `${u.domain}\\${u.sAMAccountName}`.toLowerCase() === key.toLowerCase());
  const matrix = PROTOCOLS.filter((p) => p !== 'unknown').map((protocol) => ({
    protocol,
    cells: ZONES.map((zone) => ({ zone, decision: control.evaluate(r, protocol, { zone, remoteAddress: ZONE_CLIENT[zone] }) })),
  }));
  const store = sources?.audit?.();
  const audit = store ? await store.query({ user: key }, { order: 'desc', limit: 20 }).catch(() => undefined) : undefined;
  return {
    entry: r.entry,
    chains: data && fileUser ? groupChains(fileUser.groups, data.groups) : await ldapChains(sources, key),
    matrix,
    zones: ZONES,
    revocation: control.users.revocations().find((v) => v.key.toLowerCase() === key.toLowerCase()),
    lockout: control.users.lockouts().find((l) => l.key.toLowerCase() === key.toLowerCase()),
    audit,
  };
}

/** The LDAP provider's chains, when it can tell them; a failure leaves the flat group list. */
async function ldapChains(sources: ConsoleSources | undefined, key: string): Promise<string[][] | undefined> {
  const dir = sources?.directory?.();
  return dir?.groupChains ? dir.groupChains(key).catch(() => undefined) : undefined;
}
