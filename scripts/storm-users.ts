// The login-storm population, generated in one place so that the Samba AD DC (LDIF), the file
// directory and the lab Exchange (YAML) hold exactly the same users:
//   `users` accounts storm0001… spread evenly over `groups` groups Storm-01…, each nested into
//   Outlook-Remote; `loose` accounts stormx001… in no group (the policy refuses them).
//   node --import tsx scripts/storm-users.ts ldif USERS GROUPS LOOSE   > storm.ldif
//   node --import tsx scripts/storm-users.ts yaml USERS GROUPS LOOSE   > storm.yaml
import { stringify } from 'yaml';

export interface StormShape {
  readonly users: number;
  readonly groups: number;
  readonly loose: number;
}

export const STORM_PASSWORD = 'Passw0rd!';

/** What each storm login sends: Outlook's first EWS call after it reconnects, GetFolder of the inbox. */
export const STORM_EWS_BODY =
  '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header><t:RequestServerVersion Version="Exchange2016"/></s:Header><s:Body><m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder></s:Body></s:Envelope>';
const BASE = 'CN=Users,DC=lab,DC=example';

export const stormUser = (i: number) => `storm${String(i + 1).padStart(4, '0')}`;
export const looseUser = (i: number) => `stormx${String(i + 1).padStart(3, '0')}`;
export const stormGroup = (g: number) => `Storm-${String(g + 1).padStart(2, '0')}`;

/** Every storm account name: grouped ones first, then the ones in no group. */
export function stormNames(s: StormShape): string[] {
  return [...Array.from({ length: s.users }, (_, i) => stormUser(i)), ...Array.from({ length: s.loose }, (_, i) => looseUser(i))];
}

/**
 * LDIF for ldapadd as Administrator. No unicodePwd: Samba derives Kerberos keys for every password
 * (25 ms each here), and the gateway never binds as a storm user (the lab Exchange checks the
 * passwords from the YAML). userAccountControl 544 = NORMAL_ACCOUNT | PASSWD_NOTREQD: enabled
 * without a password (512 alone is refused without one).
 */
export function stormLdif(s: StormShape): string {
  const out: string[] = [];
  for (const n of stormNames(s)) {
    out.push(`dn: CN=${n},${BASE}\nobjectClass: user\nsAMAccountName: ${n}\nuserPrincipalName: ${n}@lab.example\nmail: ${n}@lab.example\nuserAccountControl: 544\n`);
  }
  for (let g = 0; g < s.groups; g++) {
    const members = Array.from({ length: s.users }, (_, i) => i).filter((i) => i % s.groups === g);
    // groupType -2147483646: a global security group, the kind tokenGroups carries.
    out.push(`dn: CN=${stormGroup(g)},${BASE}\nobjectClass: group\nsAMAccountName: ${stormGroup(g)}\ngroupType: -2147483646\n${members.map((i) => `member: CN=${stormUser(i)},${BASE}\n`).join('')}`);
  }
  if (s.groups > 0) {
    out.push(`dn: CN=Outlook-Remote,${BASE}\nchangetype: modify\nadd: member\n${Array.from({ length: s.groups }, (_, g) => `member: CN=${stormGroup(g)},${BASE}\n`).join('')}-\n`);
  }
  // ldapadd reads records without changetype as adds; the last one is a modify.
  return out.map((r) => (r.includes('changetype:') ? r : r.replace(/^dn: (.*)\n/, 'dn: $1\nchangetype: add\n'))).join('\n');
}

/** The same population as a file directory (domain LAB), with the demo's groups and passwords. */
export function stormYaml(s: StormShape): string {
  const groups = [{ name: 'Outlook-Remote', members: Array.from({ length: s.groups }, (_, g) => stormGroup(g)) }, ...Array.from({ length: s.groups }, (_, g) => ({ name: stormGroup(g) }))];
  const users = stormNames(s).map((n, i) => ({
    sAMAccountName: n,
    domain: 'LAB',
    userPrincipalName: `${n}@lab.example`,
    mail: `${n}@lab.example`,
    groups: i < s.users && s.groups > 0 ? [stormGroup(i % s.groups)] : [],
    password: STORM_PASSWORD,
  }));
  return stringify({ domains: { netbios: ['LAB'], upnSuffixes: ['lab.example'] }, groups, users });
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const [kind, users = '2000', groups = '20', loose = '100'] = process.argv.slice(2);
  const shape = { users: Number(users), groups: Number(groups), loose: Number(loose) };
  if (kind === 'ldif') process.stdout.write(stormLdif(shape));
  else if (kind === 'yaml') process.stdout.write(stormYaml(shape));
  else {
    console.error('usage: storm-users.ts ldif|yaml USERS GROUPS LOOSE');
    process.exit(2);
  }
}
