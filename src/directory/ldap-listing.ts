// Whole-directory questions the gateway never asks while serving, only its tools: every mailbox
// user (`cas-plan`), and every group name (`config check`). Both are single paged
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

export interface UserHit {
  readonly key: string;
  readonly name: string | undefined;
  readonly mail: string | undefined;
}

/**
 * Users whose logon name, UPN or mail starts with `text`, or whose display name contains it, for
 * the console's search box: at most `limit`, one search with a size limit (the server stops there).
 * Prefixes keep it on AD's indexes; only the display name is a substring match.
 */
export async function findUsers(c: LdapSession, q: ListingQuery, netbiosDomain: string, text: string, limit: number): Promise<UserHit[]> {
  const t = escapeFilter(text);
  const logon = q.ad ? 'sAMAccountName' : 'uid';
  const kinds = q.ad ? '(objectClass=user)(!(objectClass=computer))' : '';
  const which = q.ad ? `(|(sAMAccountName=${t}*)(userPrincipalName=${t}*)(mail=${t}*)(displayName=*${t}*))` : `(|(uid=${t}*)(mail=${t}*)(cn=*${t}*)(displayName=*${t}*))`;
  // With a sizeLimit, ldapts answers sizeLimitExceeded with the entries up to the limit.
  const r = await c.search(q.baseDn, { scope: 'sub', filter: `(&${q.userFilter}${kinds}${which})`, attributes: [logon, 'displayName', 'cn', 'mail'], sizeLimit: limit });
  return r.searchEntries
    .map((e) => ({ sam: first(e[logon]), name: first(e['displayName']) || first(e['cn']) || undefined, mail: first(e['mail']) || undefined }))
    .filter((h) => h.sam !== '')
    .map((h) => ({ key: `${netbiosDomain.toUpperCase()}\\${h.sam}`, name: h.name, mail: h.mail }))
    .sort((a, b) => a.key.localeCompare(b.key))
    .slice(0, limit);
}
