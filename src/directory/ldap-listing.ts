// Whole-directory questions the gateway never asks while serving, only its tools: every mailbox
// user (`cas-plan`), and which group names exist (`config check`). Both are single paged
// searches on a pooled service connection; users are then resolved one by one through the
// provider's own lookup, so their groups are found exactly as the gateway finds them.
import type { LdapSession } from './ldap-connection.js';
import { escapeFilter } from './ldap-filter.js';

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

/** Which of `names` are groups under the group base, matched by cn as the resolvers name them (case-insensitive). */
export async function existingGroups(c: LdapSession, q: ListingQuery, names: readonly string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const kinds = q.ad ? '(objectClass=group)' : '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))';
  const filter = `(&${kinds}(|${names.map((n) => `(cn=${escapeFilter(n)})`).join('')}))`;
  const { searchEntries } = await c.search(q.groupBaseDn, { scope: 'sub', filter, attributes: ['cn'], paged: { pageSize: 500 } });
  const found = new Set(searchEntries.map((e) => first(e['cn']).toLowerCase()));
  return new Set(names.filter((n) => found.has(n.toLowerCase())));
}
