import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { PROTOCOLS } from '../classify/protocols.js';
import { checkLine, renderHtml, renderText } from '../doctor/render.js';
import { runDoctor } from '../doctor/run.js';
import { positiveNumber } from './commands-access.js';
import type { CheckResult, Status } from '../doctor/types.js';

const COLORS: Record<Status, (s: string) => string> = { pass: pc.green, warn: pc.yellow, fail: pc.red, skip: pc.dim, info: pc.cyan };

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .argument('<url>', 'published URL, e.g. https://mail.example.com')
    .description('connectivity analyzer for Outlook Anywhere, MAPI/HTTP, Autodiscover, EWS and ActiveSync: names the cause and the fix')
    .option('--email <address>', 'mailbox to test Autodiscover for (its domain drives the DNS checks)')
    .option('--user <user>', "DOMAIN\\user or UPN for the credentialed checks (one attempt per method, read-only)")
    .option('--password-stdin', 'read the password from standard input')
    .option('--protocols <list>', 'which protocols to test', 'autodiscover,rpc,mapi,ews,eas')
    .option('--resolver <ip[:port]>', 'DNS server to ask (default: the system resolver)')
    .option('--upstream <url>', 'Exchange behind the gateway: checks that both show the same certificate')
    .option('--ca <file>', 'also trust this CA (private PKI)')
    .option('--timeout <ms>', 'time-out per network step', '10000')
    .option('--rpc-server <name>', 'RPC server for the Outlook Anywhere checks (mailboxGuid@domain) when Autodiscover cannot tell')
    .option('--long', 'hold idle RPC and MAPI channels up to the protocols\' keep-alive intervals (about 5 minutes) instead of 20 s')
    .option('--json', 'machine-readable output')
    .option('--html <file>', 'also write a self-contained HTML report')
    .action(async (url: string, o: { email?: string; user?: string; passwordStdin?: boolean; protocols: string; resolver?: string; upstream?: string; ca?: string; timeout: string; rpcServer?: string; long?: boolean; json?: boolean; html?: string }) => {
      const protocols = o.protocols.split(',').map((s) => s.trim().toLowerCase());
      const unknown = protocols.filter((p) => !(PROTOCOLS as readonly string[]).includes(p));
      if (unknown.length) throw new Error(`unknown protocol(s): ${unknown.join(', ')}`);
      if (!/^https:\/\//.test(url)) throw new Error('the URL must be https://');
      const password = o.passwordStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : undefined;
      // Progress only on a terminal, as one line that the next check overwrites: the report follows on
      // stdout, and every check printed twice (progress, then report) was noise.
      const progress = !o.json && process.stderr.isTTY ? (r: CheckResult) => process.stderr.write(`\r\x1b[2K${checkLine(r, (s, t) => COLORS[s](t))}`) : undefined;
      const report = await runDoctor(
        { url, protocols, timeoutMs: positiveNumber('--timeout', o.timeout), ...(o.email ? { email: o.email } : {}), ...(o.user ? { user: o.user } : {}), ...(password !== undefined ? { password } : {}), ...(o.resolver ? { resolver: o.resolver } : {}), ...(o.upstream ? { upstream: o.upstream } : {}), ...(o.ca ? { ca: o.ca } : {}), ...(o.rpcServer ? { rpcServer: o.rpcServer } : {}), ...(o.long ? { long: true } : {}) },
        progress,
      );
      if (progress) process.stderr.write('\r\x1b[2K');
      if (o.html) writeFileSync(o.html, renderHtml(report));
      console.log(o.json ? JSON.stringify(report, null, 2) : `\n${renderText(report, (s, t) => COLORS[s](t))}`);
      process.exitCode = report.exitCode;
    });
}
