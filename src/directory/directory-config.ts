import { z } from 'zod';
import { duration } from '../config/duration.js';

const fileProvider = z
  .object({
    provider: z.literal('file'),
    file: z.string().describe('Directory YAML (users, groups, domains), relative to this config file.'),
  })
  .strict();

const ldapProvider = z
  .object({
    provider: z.literal('ldap'),
    url: z.string().regex(/^ldaps?:\/\//).describe('ldaps://dc1.corp.example or ldap:// with startTls: true.'),
    startTls: z.boolean().default(false).describe('Upgrade an ldap:// connection with StartTLS before binding.'),
    ca: z.string().optional().describe('PEM CA file for the directory\'s certificate (system store when absent).'),
    insecure: z.boolean().default(false).describe('Skip certificate verification (test labs only; logged loudly).'),
    bindDn: z.string().describe('Service account (DN, UPN or DOMAIN\\user on AD).'),
    bindPassword: z.string().optional().describe('Service account password (prefer bindPasswordFile).'),
    bindPasswordFile: z.string().optional().describe('File holding the service account password.'),
    baseDn: z.string().describe('Search base for users and groups.'),
    flavor: z
      .enum(['ad', 'openldap'])
      .default('ad')
      .describe('ad: nested groups by the in-chain rule 1.2.840.113556.1.4.1941; openldap: walk groupOfNames membership.'),
    netbiosDomain: z.string().describe('The NetBIOS domain this directory answers for (e.g. LAB).'),
    upnSuffixes: z.array(z.string()).min(1).describe('Accepted UPN / SMTP suffixes.'),
    groupBaseDn: z.string().optional().describe('Where groups live (defaults to baseDn).'),
    userFilter: z.string().default('(objectClass=person)').describe('Extra filter every user must match.'),
    cacheTtl: duration('How long a lookup result is trusted before it is refreshed in the background.').prefault('60s'),
    gracePeriod: duration('While the directory is unreachable, cached results serve this long; then decisions fail closed.').prefault('5m'),
    timeout: duration('Time allowed for one LDAP operation.').prefault('5s'),
  })
  .strict();

export const directoryConfigSchema = z
  .discriminatedUnion('provider', [fileProvider, ldapProvider])
  .describe('Where users and groups come from: a YAML file (the default) or LDAP / Active Directory.');

export type DirectoryConfig = z.output<typeof directoryConfigSchema>;
export type LdapConfig = Extract<DirectoryConfig, { provider: 'ldap' }>;
