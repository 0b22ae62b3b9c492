// One user's directory answer: find the account the claim names (one subtree search), read its
// state, and resolve its groups. Runs on a pooled service connection lent by DomainControllers.
import type { LdapSession } from './ldap-connection.js';
import { type UserForm, userFilter } from './ldap-filter.js';
import type { Answer } from './lookup-cache.js';
import type { GroupResolver } from './group-resolvers.js';
import type { DirectoryEntry } from './provider.js';

const UF_ACCOUNTDISABLE = 0x2;

/**
 * One copy of each group and domain name for every cached user: each LDAP answer parses its own
 * strings, and with 50,000 cached users in a few hundred groups the copies were most of the
 * cache's memory (bench/ldap-cache.ts). Bounded: a directory with more distinct names starts over.
 */
const names = new Map<string, string>();
function intern(s: string): string {
  const known = names.get(s);
  if (known !== undefined) return known;
  if (names.size >= 100_000) names.clear();
  names.set(s, s);
  return s;
}

export interface UserQuery {
  readonly baseDn: string;
  readonly userFilter: string;
  readonly ad: boolean;
  readonly netbiosDomain: string;
  readonly groups: GroupResolver;
}

export async function queryUser(c: LdapSession, form: UserForm, q: UserQuery): Promise<{ answer: Answer; dn: string | undefined }> {
  const { searchEntries } = await c.search(q.baseDn, {
    scope: 'sub',
    filter: userFilter(form, q.ad, q.userFilter),
    attributes: ['sAMAccountName', 'uid', 'userPrincipalName', 'mail', 'userAccountControl', 'pwdAccountLockedTime', ...(q.groups.userAttributes ?? [])],
    ...(q.groups.userBufferAttributes ? { explicitBufferAttributes: [...q.groups.userBufferAttributes] } : {}),
    sizeLimit: 2,
  });
  // Two accounts answering one name is no identity at all.
  if (searchEntries.length !== 1) return { answer: { status: 'not-found' }, dn: undefined };
  const u = searchEntries[0]!;
  const str = (a: string) => {
    const v = u[a];
    return Array.isArray(v) ? String(v[0] ?? '') : v === undefined ? '' : String(v);
  };
  const sam = str(q.ad ? 'sAMAccountName' : 'uid');
  const enabled = q.ad ? (Number(str('userAccountControl') || '0') & UF_ACCOUNTDISABLE) === 0 : str('pwdAccountLockedTime') === '';
  const entry: DirectoryEntry = {
    key: `${q.netbiosDomain.toUpperCase()}\\${sam.toLowerCase()}`,
    domain: intern(q.netbiosDomain.toUpperCase()),
    sam,
    upn: str('userPrincipalName') || str('mail'),
    mail: str('mail'),
    enabled,
    groups: (await q.groups.groups(c, { dn: u.dn, attributes: u })).map(intern),
  };
  return { answer: { status: 'found', entry }, dn: u.dn };
}
