import { z } from 'zod';

/** One user of the directory file (the reload path validates users one by one as it reads them). */
export const directoryUserSchema = z
  .object({
    sAMAccountName: z.string().min(1).max(20).describe('Down-level logon name (without the domain).'),
    domain: z.string().min(1).max(15).describe('NetBIOS domain, e.g. LAB.'),
    userPrincipalName: z.string().email().describe('UPN, e.g. alice@lab.example.'),
    mail: z.string().email().describe('Primary SMTP address.'),
    proxyAddresses: z.array(z.string()).default([]).describe('Other addresses (smtp:alias@domain).'),
    displayName: z.string().optional().describe('Name shown in Autodiscover and EWS; defaults to sAMAccountName.'),
    enabled: z.boolean().default(true).describe('Disabled accounts are never allowed.'),
    groups: z.array(z.string()).default([]).describe('Groups the user is a direct member of.'),
    password: z.string().optional().describe('Lab only: the password the lab Exchange verifies. The gateway ignores it.'),
    passwordExpired: z.boolean().optional().describe('Lab only: the password is right but expired: the lab Exchange refuses it as AD does (forms sign-in: to expiredpassword.aspx). The gateway ignores it.'),
    mailboxGuid: z
      .string()
      .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i)
      .optional()
      .describe('Exchange mailbox GUID (used in RPC and MAPI URLs); the lab derives one when absent.'),
  })
  .strict();

const group = z
  .object({
    name: z.string().min(1).describe('Group name as policies refer to it.'),
    members: z.array(z.string()).default([]).describe('Groups nested in this one (their members are members too).'),
    description: z.string().optional(),
  })
  .strict();

export const directoryFileSchema = z
  .object({
    domains: z
      .object({
        netbios: z.array(z.string().min(1)).min(1).describe('Accepted NetBIOS domain names.'),
        upnSuffixes: z.array(z.string().min(1)).min(1).describe('Accepted UPN / SMTP domain suffixes.'),
      })
      .strict(),
    users: z.array(directoryUserSchema).default([]),
    groups: z.array(group).default([]),
  })
  .strict()
  .describe('Portcullis file directory: users, nested groups and accepted domains.');

export type DirectoryFile = z.output<typeof directoryFileSchema>;
export type DirectoryUser = DirectoryFile['users'][number];
export type DirectoryGroup = DirectoryFile['groups'][number];
