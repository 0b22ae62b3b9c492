import { isIP } from 'node:net';
import os from 'node:os';
import type { Command } from 'commander';
import pc from 'picocolors';
import type { Protocol } from '../vocabulary/protocols.js';
import { loadConfig } from '../config/load.js';
import type { GatewayConfig } from '../config/schema.js';
import { formatProblem } from '../yaml/yaml-source.js';
import { claimOfLogon } from '../identity/basic.js';
import { compilePolicy, evaluate } from '../policy/evaluate.js';
import { UserStateStore } from '../policy/user-states.js';
import { casPlan, readCurrentExport, renderPowerShell } from '../policy/cas-plan.js';
import { protocolList, protocolNamed } from '../policy/protocol-names.js';
import { adminRequest, adminTarget, TOKEN_ENV } from '../admin/admin-client.js';
import { CliError } from './cli-error.js';
import { mailboxUsers, openDirectory } from './cli-directory.js';
import { revokeMinutesProblem } from '../policy/revocation-length.js';

/** The login name of whoever runs the CLI: the revocation's actor on the record (the token names no one). */
export function callerName(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}

/** Parses a numeric option; a typo must not turn into NaN (a timed revocation into a permanent one). */
export function positiveNumber(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0)) throw new CliError(`${name} must be a positive number, not "${value}"`);
  return n;
}

/** A config for the offline commands: every problem at file:line:column, then one line saying what to do. */
export function loadOrFail(file: string): GatewayConfig {
  const r = loadConfig(file);
  if (!r.ok) {
    const lines = r.problems.map(formatProblem);
    throw new CliError(`${lines.join('\n')}\n${r.problems.length} problem(s) in ${file}: fix them, then run again (portcullis config check ${file} shows them all)`);
  }
  return r.config;
}

/** `--protocol activesync` is eas: the names admins use are accepted, and an unknown one gets the list. */
function protocolOption(name: string): Protocol {
  const p = protocolNamed(name);
  if (!p) throw new CliError(`unknown protocol "${name}": use one of ${protocolList()}`);
  return p;
}

export function registerAccessCommands(program: Command): void {
  program
    .command('revoke')
    .argument('<user>', "DOMAIN\\user or UPN, e.g. 'LAB\\bob'")
    .description("revoke a user now: the running gateway closes every open connection of that user")
    .option('-c, --config <file>', "the gateway's configuration: its admin address, and the token from admin.tokenFile")
    .option('--admin <url>', `admin endpoint of the running gateway (default: from -c, else http://127.0.0.1:9090 with the token in ${TOKEN_ENV})`)
    .option('--reason <text>', 'why (goes to the log and audit)')
    .option('--minutes <n>', 'lift the revocation after this many minutes')
    .option('--undo', 'remove the revocation instead')
    .option('--force', 'revoke the name as given even if the directory does not know it')
    .action(async (user: string, o: { admin?: string; config?: string; reason?: string; minutes?: string; undo?: boolean; force?: boolean }) => {
      const minutes = o.minutes === undefined ? undefined : positiveNumber('--minutes', o.minutes);
      const mProblem = minutes === undefined ? undefined : revokeMinutesProblem(minutes);
      if (mProblem) throw new CliError(`--minutes: ${mProblem.replace(/^minutes /, '')}`);
      const target = adminTarget({ url: o.admin, config: o.config });
      const r = (await adminRequest(target, o.undo ? '/api/unrevoke' : '/api/revoke', { user, reason: o.reason, actor: callerName(), ...(minutes ? { minutes } : {}), ...(o.force ? { force: true } : {}) })) as Record<string, unknown>;
      if (o.undo) {
        console.log(`${String(r['user'])}: revocation ${r['removed'] ? 'removed' : 'was not present'}`);
        return;
      }
      const key = String((r['revoked'] as Record<string, unknown>)['key']);
      console.log(`${pc.red('revoked')} ${key}: ${String(r['closedConnections'])} open connection(s) closed in ${String(r['ms'])} ms`);
      if (typeof r['directory'] === 'string') console.error(pc.yellow(`note: the directory could not confirm ${key} (${r['directory']}): revoked by the name as given`));
    });

  const policy = program.command('policy').description('inspect the access policy');
  policy
    .command('explain')
    .description('show the decision and its reasons for a user, protocol and zone')
    .requiredOption('--user <user>', "DOMAIN\\user or UPN")
    .requiredOption('--protocol <protocol>', `${protocolList()}`)
    .requiredOption('--zone <zone>', 'external | internal')
    .option('--client <ip>', 'client address (for rules with clientCidrs)', '203.0.113.1')
    .option('-c, --config <file>', 'explain offline from this configuration; with --admin, where the running gateway and its admin token are')
    .option('--admin [url]', `ask the running gateway (includes revocations and lockouts); without a URL, the one -c names (token: admin.tokenFile, or ${TOKEN_ENV})`)
    .action(async (o: { user: string; protocol: string; zone: string; client: string; config?: string; admin?: string | true }) => {
      const protocol = protocolOption(o.protocol);
      if (o.zone !== 'external' && o.zone !== 'internal') throw new CliError(`--zone must be external or internal, not "${o.zone}"`);
      const zone = o.zone;
      if (isIP(o.client) === 0) throw new CliError(`--client must be an IPv4 or IPv6 address, not "${o.client}"`);
      let out: { user: unknown; groups?: unknown; cause?: unknown; decision: { allow: boolean; reasons: readonly string[]; rule?: string; secondFactor?: boolean } };
      if (o.admin || !o.config) {
        const target = adminTarget({ url: typeof o.admin === 'string' ? o.admin : undefined, config: o.config });
        out = (await adminRequest(target, '/api/explain', { user: o.user, protocol, zone, client: o.client })) as typeof out;
      } else {
        const cfg = loadOrFail(o.config);
        if (!cfg.directory) throw new CliError(`${o.config} has no directory section, so the gateway knows no user: configure directory (provider: file or ldap)`);
        const claim = claimOfLogon(o.user);
        if (!claim) throw new CliError(`--user must be DOMAIN\\user or user@domain, not "${o.user}"`);
        const dir = openDirectory(cfg);
        const r = await dir.lookup(claim).finally(() => dir.close());
        const states = new UserStateStore(cfg.lockout);
        out =
          r.status === 'found'
            ? { user: r.entry.key, groups: r.entry.groups, decision: evaluate(compilePolicy(cfg.policy), { subject: { kind: 'user', entry: r.entry }, protocol, zone, clientAddress: o.client }, states) }
            : {
                user: o.user,
                ...(r.status === 'unavailable' ? { cause: r.reason } : {}),
                decision: { allow: false, reasons: [r.status === 'not-found' ? 'unknown-user' : r.status === 'unavailable' ? 'directory-unavailable' : r.status] },
              };
      }
      const d = out.decision;
      // Why the directory could not answer belongs next to the reason: the admin's next step.
      const reasons = d.reasons.map((r) => (r === 'directory-unavailable' && typeof out.cause === 'string' ? `${r}: ${out.cause}` : r));
      console.log(`${String(out.user)} ${protocol} from ${zone}: ${d.allow ? pc.green('ALLOW') : pc.red('DENY')}`);
      console.log(`  reasons: ${reasons.join(', ')}${d.rule ? `\n  rule:    ${d.rule}` : ''}`);
      if (Array.isArray(out.groups)) console.log(`  groups:  ${out.groups.join(', ') || '(none)'}`);
      // Only browsers signing in at the gateway are asked for it (signin:); other clients cannot give one.
      if (d.allow && d.secondFactor) console.log('  second factor: required at browser sign-in');
      process.exitCode = d.allow ? 0 : 3;
    });

  program
    .command('cas-plan')
    .description('print the Set-CASMailbox commands that make Exchange enforce the same policy (PowerShell or JSON)')
    .requiredOption('-c, --config <file>', 'gateway configuration (its directory: the file, or LDAP / Active Directory)')
    .option('--current <file>', 'JSON export of Get-CASMailbox (Identity, MAPIBlockOutlookRpcHttp, MAPIBlockOutlookExternalConnectivity): print only changes')
    .option('--json', 'JSON instead of PowerShell')
    .action(async (o: { config: string; current?: string; json?: boolean }) => {
      const cfg = loadOrFail(o.config);
      let current;
      try {
        current = o.current ? readCurrentExport(o.current) : undefined;
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const plan = casPlan(cfg, await mailboxUsers(cfg), current);
      console.log(o.json ? JSON.stringify(plan, null, 2) : renderPowerShell(plan));
    });
}
