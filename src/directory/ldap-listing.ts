// Whole-directory questions the gateway never asks while serving, only its tools: every mailbox
// user (`cas-plan`), and every group name (`config check`). Both are single paged
// searches on a pooled service connection; users are then resolved one by one through the
// provider's own lookup, so their groups are found exactly as the gateway finds them.
import type { LdapSession } from './ldap-connection.js';

export interface ListingQuery {
  readonly baseDn: string;
  readonly groupBaseDn: string;
  readonly userFilter: string;
  readonly ad: boolean;
}

const first = (v: unknown): string => String(Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));

/**
 * The logon names of every user with a mail address (a mailbox, for want of Exchange's own
 * attributes on a plain AD or OpenLDAP), sorted. Computer accounts are users to AD: left out.
 */
export async function mailboxLogons(c: LdapSession, q: ListingQuery): Promise<string[]> {
  const who = q.ad ? '(objectClass=user)(!(objectClass=computer))(mail=*)' : '(mail=*)';
  const { searchEntries } = await c.search(q.baseDn, { scope: 'sub', filter: `(&${q.userFilter}${who})`, attributes: [q.ad ? 'sAMAccountName' : 'uid'], paged: { pageSize: 500 } });
  return searchEntries.map((e) => first(e[q.ad ? 'sAMAccountName' : 'uid'])).filter((s) => s !== '').sort();
}

/**
 * Every group name (cn) under the group base, as the resolvers name groups: for `config check`,
 * which tells a policy group that does not exist from one that does, and suggests the near one.
 * One paged search of one attribute: a few seconds for the largest directories, and never on the
 * serving path.
 */
export async function groupNames(c: LdapSession, q: ListingQuery): Promise<string[]> {
  const kinds = q.ad ? '(objectClass=group)' : '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))';
  const { searchEntries } = await c.search(q.groupBaseDn, { scope: 'sub', filter: kinds, attributes: ['cn'], paged: { pageSize: 500 } });
  return [...new Set(searchEntries.map((e) => first(e['cn'])).filter((n) => n !== ''))].sort();
}
