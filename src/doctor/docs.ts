import { CATALOG } from './catalog.js';

/** docs/doctor.md, generated from the catalog so the ids, causes and fixes cannot drift apart. */
export function doctorMarkdown(): string {
  const lines = [
    '# portcullis doctor: findings',
    '',
    'Generated from `src/doctor/catalog.ts` (`npm run docs:doctor`). Every finding has a stable id; the doctor prints it with the evidence it saw, and `--json` carries the same ids.',
    '',
    'Exit codes (Nagios/Icinga compatible): 0 all passed, 1 warnings, 2 failures.',
    '',
    'Usage: `portcullis doctor https://mail.example.com [--email user@domain] [--user \'DOMAIN\\user\' --password-stdin] [--protocols autodiscover,rpc,mapi,ews,eas] [--resolver IP[:PORT]] [--upstream URL] [--ca FILE] [--rpc-server GUID@DOMAIN] [--long] [--json] [--html FILE]`.',
    'The idle-channel check holds an RPC over HTTP virtual connection and a MAPI NotificationWait open: 20 s by default (a NotificationWait at least one PENDING period), up to the 5-minute keep-alive interval with `--long`.',
    'Unauthenticated by default; with credentials it makes at most one failed login per method (then stops), and never writes to a mailbox.',
    '',
    '| id | severity | what it means |',
    '|---|---|---|',
    ...Object.entries(CATALOG).map(([id, c]) => `| [${id}](#${id.toLowerCase()}) | ${c.severity} | ${c.title} |`),
    '',
  ];
  for (const [id, c] of Object.entries(CATALOG)) {
    lines.push(`## ${id}`, '', `**${c.title}** (${c.severity})`, '', `- Cause: ${c.cause}`, `- Fix: ${c.fix}`, '');
  }
  return lines.join('\n');
}
