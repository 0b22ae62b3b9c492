import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import type { Protocol } from '../vocabulary/protocols.js';
import { protocolList, protocolNamed } from '../policy/protocol-names.js';
import { isIP } from 'node:net';
import { CliError, fileErrorText } from './cli-error.js';
import { checkLine, renderHtml, renderText } from '../doctor/render.js';
import { runDoctor } from '../doctor/run.js';
import { positiveNumber } from './commands-access.js';
import type { CheckResult, Status } from '../doctor/types.js';

/** What the doctor can test (runDoctor's steps). */
const DOCTOR_PROTOCOLS: readonly Protocol[] = ['autodiscover', 'rpc', 'mapi', 'ews', 'eas'];

/**
 * The published URL from what an admin types: `mail.contoso.com` and `mail.contoso.com:8443`
 * mean https:// (Outlook and phones only ever use HTTPS); http:// and other schemes are refused.
 */
export function doctorTarget(arg: string, option = 'the target'): string {
  const s = arg.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `https://${s}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new CliError(`${option} "${arg}" is not a host name or URL: give the published name, e.g. mail.contoso.com or https://mail.contoso.com`);
  }
  if (u.protocol !== 'https:') throw new CliError(`${option} "${arg}": the doctor tests HTTPS endpoints; use https://${u.host}`);
  if (!u.hostname) throw new CliError(`${option} "${arg}" names no host: give the published name, e.g. mail.contoso.com`);
  return u.href.replace(/\/$/, '');
}

/** `--resolver 10.0.0.53`, `10.0.0.53:5353` or `[fd00::53]:53`: what dns.Resolver#setServers takes. */
function resolverOption(v: string): void {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(v) ?? /^([^:]+)(?::(\d+))?$/.exec(v) ?? (isIP(v) === 6 ? [v, v, undefined] : null);
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  if (!m || isIP(m[1]!) === 0 || !(port >= 1 && port <= 65535)) throw new CliError(`--resolver must be a DNS server's address, optionally with :port (10.0.0.53, 10.0.0.53:5353, [fd00::53]:53), not "${v}"`);
}

const COLORS: Record<Status, (s: string) => string> = { pass: pc.green, warn: pc.yellow, fail: pc.red, skip: pc.dim, info: pc.cyan };

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .argument('<url>', 'published name or URL, e.g. mail.example.com or https://mail.example.com:8443 (https:// is assumed)')
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
    .action(async (target: string, o: { email?: string; user?: string; passwordStdin?: boolean; protocols: string; resolver?: string; upstream?: string; ca?: string; timeout: string; rpcServer?: string; long?: boolean; json?: boolean; html?: string }) => {
      let url = target;
      const names = o.protocols.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const unknown = names.filter((n) => !DOCTOR_PROTOCOLS.includes(protocolNamed(n) as Protocol));
      if (unknown.length || names.length === 0) throw new CliError(`--protocols: unknown protocol(s) ${unknown.map((n) => `"${n}"`).join(', ') || '(none given)'}: use a comma-separated list of ${protocolList(DOCTOR_PROTOCOLS)}`);
      const protocols = [...new Set(names.map((n) => protocolNamed(n)!))];
      url = doctorTarget(url);
      if (o.resolver !== undefined) resolverOption(o.resolver);
      if (o.upstream !== undefined) o.upstream = doctorTarget(o.upstream, '--upstream');
      if (o.email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(o.email)) throw new CliError(`--email must be a mail address such as alice@contoso.com, not "${o.email}"`);
      if (o.passwordStdin && !o.user) throw new CliError('--password-stdin needs --user (whose password it is)');
      if (o.ca !== undefined) {
        try {
          readFileSync(o.ca);
        } catch (e) {
          throw new CliError(`--ca ${fileErrorText(e, o.ca) ?? `${o.ca}: ${(e as Error).message}`}`);
        }
      }
      if (o.rpcServer !== undefined && !/^[^\s:/?#]+$/.test(o.rpcServer)) throw new CliError(`--rpc-server must be the RPC server name Outlook uses (mailboxGuid@domain, or a server FQDN), without a port, not "${o.rpcServer}"`);
      const timeoutMs = positiveNumber('--timeout', o.timeout);
      const password = o.passwordStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : undefined;
      if (password === '') throw new CliError('--password-stdin: standard input was empty (echo the password into the command)');
      // Progress only on a terminal, as one line that the next check overwrites: the report follows on
      // stdout, and every check printed twice (progress, then report) was noise.
      const progress = !o.json && process.stderr.isTTY ? (r: CheckResult) => process.stderr.write(`\r\x1b[2K${checkLine(r, (s, t) => COLORS[s](t))}`) : undefined;
      const report = await runDoctor(
        { url, protocols, timeoutMs, ...(o.email ? { email: o.email } : {}), ...(o.user ? { user: o.user } : {}), ...(password !== undefined ? { password } : {}), ...(o.resolver ? { resolver: o.resolver } : {}), ...(o.upstream ? { upstream: o.upstream } : {}), ...(o.ca ? { ca: o.ca } : {}), ...(o.rpcServer ? { rpcServer: o.rpcServer } : {}), ...(o.long ? { long: true } : {}) },
        progress,
      );
      if (progress) process.stderr.write('\r\x1b[2K');
      if (o.html) {
        try {
          writeFileSync(o.html, renderHtml(report));
        } catch (e) {
          throw new CliError(`--html ${fileErrorText(e, o.html) ?? `${o.html}: ${(e as Error).message}`}: the report was not written`);
        }
      }
      console.log(o.json ? JSON.stringify(report, null, 2) : `\n${renderText(report, (s, t) => COLORS[s](t))}`);
      process.exitCode = report.exitCode;
    });
}
