import { z } from 'zod';
import { duration } from '../vocabulary/duration.js';

const fileProvider = z
  .object({
    provider: z.literal('file').describe('file: users, groups and domains from a YAML file.'),
    file: z.string().describe('Directory YAML (users, groups, domains), relative to this config file.'),
  })
  .strict();

const ldapUrl = z.string().regex(/^ldaps?:\/\//);

/** url first (the field from before there were several), then urls, each once. */
function dcList(v: { url?: string | undefined; urls?: string[] | undefined }): string[] {
  return [...new Set([...(v.url ? [v.url] : []), ...(v.urls ?? [])])];
}

const pool = z
  .object({
    size: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(8)
      .describe('Bound service connections to each domain controller, never more; each serves one lookup at a time (two round trips), so this bounds the lookups in flight.'),
    bindSize: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(2)
      .describe('Connections per domain controller used only to check passwords (bind as the user, then reset to anonymous); never used for searches.'),
    acquireTimeout: duration('How long a lookup may wait in the queue for a free connection before it is answered "directory unavailable".').prefault('5s'),
    maxWaiting: z.number().int().min(0).default(1000).describe('Lookups that may wait for a connection per domain controller; beyond this they are refused at once instead of queueing.'),
    healthCheck: duration('An idle connection is checked (a base read of baseDn) after this long unused; one that fails is closed and re-opened on demand. 0 turns the checks off.').prefault('30s'),
    idleTimeout: duration('An idle connection unused this long is closed (AD closes idle connections after 15 minutes by default).').prefault('5m'),
  })
  .strict()
  .describe('The pool of LDAP connections to each domain controller.');

const breaker = z
  .object({
    cooldown: duration('After a domain controller fails (connect, bind or an operation), no new attempts go to it for this long; then a background probe (connect + bind) decides.').prefault('2s'),
    maxCooldown: duration('Each failed probe doubles the pause, up to this.').prefault('30s'),
  })
  .strict()
  .describe('Circuit breaker per domain controller: failures are not retried by every request.');

const ldapProvider = z
  .object({
    provider: z.literal('ldap').describe('ldap: Active Directory or OpenLDAP over LDAPS or StartTLS.'),
    url: ldapUrl.optional().describe('One domain controller: ldaps://dc1.corp.example, or ldap:// with startTls: true. Same as urls: [url].'),
    urls: z
      .array(ldapUrl)
      .min(1)
      .optional()
      .describe('Domain controllers in order of preference: the first healthy one serves, the next takes over while it is down (each with its own pool and breaker). With url as well, url comes first.'),
    startTls: z.boolean().default(false).describe('Upgrade ldap:// connections with StartTLS before binding (ldaps:// URLs are TLS already).'),
    ca: z.string().optional().describe('PEM CA file for the directory\'s certificate (system store when absent).'),
    insecure: z.boolean().default(false).describe('Skip certificate verification (test labs only; logged loudly).'),
    bindDn: z.string().describe('Service account (DN, UPN or DOMAIN\\user on AD).'),
    bindPassword: z.string().optional().describe('Service account password (prefer bindPasswordFile).'),
    bindPasswordFile: z.string().optional().describe('File holding the service account password.'),
    baseDn: z.string().describe('Search base for users and groups.'),
    flavor: z
      .enum(['ad', 'openldap'])
      .default('ad')
      .describe('ad: Active Directory (sAMAccountName, userAccountControl, memberOf or tokenGroups); openldap: uid, pwdAccountLockedTime, groupOfNames.'),
    groupResolution: z
      .enum(['member-of', 'token-groups', 'in-chain', 'walk'])
      .optional()
      .describe(
        'How a user\'s groups (nested at any depth) are found. member-of (default on ad): the user\'s memberOf and primaryGroupID, returned by the user search itself, expanded through a background-refreshed graph of the groups under groupBaseDn: the groups tokenGroups gives (security groups, primary group included), one LDAP operation per login; a change of group nesting is seen once the graph is refreshed (refreshAhead × cacheTtl). token-groups: the user\'s tokenGroups in one more base read per login, names from a background-refreshed SID map; in-chain: the AD rule 1.2.840.113556.1.4.1941 per user (also distribution groups, about 300 times the DC CPU); walk (default on openldap): groupOfNames membership walked upwards.',
      ),
    netbiosDomain: z.string().describe('The NetBIOS domain this directory answers for (e.g. LAB).'),
    upnSuffixes: z.array(z.string()).min(1).describe('Accepted UPN / SMTP suffixes.'),
    groupBaseDn: z.string().optional().describe('Where groups live (defaults to baseDn).'),
    userFilter: z.string().default('(objectClass=person)').describe('Extra filter every user must match.'),
    cacheTtl: duration('How long a lookup result is trusted. Entries in use are refreshed in the background before that (refreshAhead), so a busy user never waits on the directory.').prefault('60s'),
    refreshAhead: z
      .number()
      .min(0.1)
      .max(0.95)
      .default(0.8)
      .describe('Fraction of cacheTtl after which an entry in use is refreshed in the background (a change re-evaluates live connections).'),
    negativeCacheTtl: duration('How long "no such user" is remembered (a spray of unknown names costs one query per name per period).').prefault('60s'),
    gracePeriod: duration('While the directory is unreachable, cached results serve this long past cacheTtl; then decisions fail closed.').prefault('5m'),
    timeout: duration('Time allowed for one LDAP operation, and for connecting.').prefault('5s'),
    pool: pool.prefault({}),
    breaker: breaker.prefault({}),
  })
  .strict()
  .superRefine((v, ctx) => {
    const urls = dcList(v);
    if (urls.length === 0) ctx.addIssue({ code: 'custom', path: ['urls'], message: 'name the domain controller: url or urls' });
    urls.forEach((u) => {
      if (u.startsWith('ldap://') && !v.startTls) ctx.addIssue({ code: 'custom', path: u === v.url ? ['url'] : ['urls', (v.urls ?? []).indexOf(u)], message: 'plain ldap:// sends the service password in clear: use ldaps:// or startTls: true' });
    });
  })
  // One list of DCs for the code; `url` stays set (the first one) for readers of the old field.
  .transform((v) => {
    const urls = dcList(v);
    return { ...v, urls, url: urls[0]!, groupResolution: v.groupResolution ?? (v.flavor === 'ad' ? ('member-of' as const) : ('walk' as const)) };
  });

export const directoryConfigSchema = z
  .discriminatedUnion('provider', [fileProvider, ldapProvider])
  .describe('Where users and groups come from: a YAML file (the default) or LDAP / Active Directory.');

export type DirectoryConfig = z.output<typeof directoryConfigSchema>;
export type LdapConfig = Extract<DirectoryConfig, { provider: 'ldap' }>;
