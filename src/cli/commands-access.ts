import os from 'node:os';
import type { Command } from 'commander';
import pc from 'picocolors';
import { PROTOCOLS, type Protocol } from '../vocabulary/protocols.js';
import { loadConfig } from '../config/load.js';
import { formatProblem } from '../yaml/yaml-source.js';
import { createLogger } from '../audit/logger.js';
import { buildDirectory } from '../directory/build-provider.js';
import { claimOfLogon } from '../identity/basic.js';
import { compilePolicy, evaluate } from '../policy/evaluate.js';
import { UserStateStore } from '../policy/user-states.js';
import { casPlan, renderPowerShell } from '../policy/cas-plan.js';
import { adminRequest, adminTarget, TOKEN_ENV } from '../admin/admin-client.js';

/** The login name of whoever runs the CLI: the revocation's actor on the record (the token names no one). */
function callerName(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}

/** Parses a numeric option; a typo must not turn into NaN (a timed revocation into a permanent one). */
export function positiveNumber(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0)) throw new Error(`${name} must be a positive number, not "${value}"`);
  return n;
}

/** An admin command's failure is one line (what went wrong, what to do), not a stack trace. */
function oneLineErrors<A extends unknown[]>(action: (...a: A) => Promise<void>): (...a: A) => Promise<void> {
  return async (...a) => {
    try {
      await action(...a);
    } catch (e) {
      console.error(`portcullis: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  };
}

function loadOrExit(file: string) {
  const r = loadConfig(file);
  if (!r.ok) {
    for (const p of r.problems) console.error(formatProblem(p));
    process.exit(1);
  }
  return r.config;
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
    .action(
      oneLineErrors(async (user: string, o: { admin?: string; config?: string; reason?: string; minutes?: string; undo?: boolean }) => {
        const minutes = o.minutes === undefined ? undefined : positiveNumber('--minutes', o.minutes);
        const target = adminTarget({ url: o.admin, config: o.config });
        const r = (await adminRequest(target, o.undo ? '/api/unrevoke' : '/api/revoke', { user, reason: o.reason, actor: callerName(), ...(minutes ? { minutes } : {}) })) as Record<string, unknown>;
        if (o.undo) console.log(`${String(r['user'])}: revocation ${r['removed'] ? 'removed' : 'was not present'}`);
        else console.log(`${pc.red('revoked')} ${String((r['revoked'] as Record<string, unknown>)['key'])}: ${String(r['closedConnections'])} open connection(s) closed in ${String(r['ms'])} ms`);
      }),
    );

  const policy = program.command('policy').description('inspect the access policy');
  policy
    .command('explain')
    .description('show the decision and its reasons for a user, protocol and zone')
    .requiredOption('--user <user>', "DOMAIN\\user or UPN")
    .requiredOption('--protocol <protocol>', PROTOCOLS.join(' | '))
    .requiredOption('--zone <zone>', 'external | internal')
    .option('--client <ip>', 'client address (for rules with clientCidrs)', '203.0.113.1')
    .option('-c, --config <file>', 'explain offline from this configuration; with --admin, where the running gateway and its admin token are')
    .option('--admin [url]', `ask the running gateway (includes revocations and lockouts); without a URL, the one -c names (token: admin.tokenFile, or ${TOKEN_ENV})`)
    .action(async (o: { user: string; protocol: string; zone: string; client: string; config?: string; admin?: string | true }) => {
      if (!PROTOCOLS.includes(o.protocol as Protocol)) throw new Error(`unknown protocol ${o.protocol}`);
      if (o.zone !== 'external' && o.zone !== 'internal') throw new Error('zone must be external or internal');
      let out: { user: unknown; groups?: unknown; decision: { allow: boolean; reasons: readonly string[]; rule?: string } };
      if (o.admin || !o.config) {
        try {
          const target = adminTarget({ url: typeof o.admin === 'string' ? o.admin : undefined, config: o.config });
          out = (await adminRequest(target, '/api/explain', { user: o.user, protocol: o.protocol, zone: o.zone, client: o.client })) as typeof out;
        } catch (e) {
          console.error(`portcullis: ${(e as Error).message}`);
          process.exitCode = 1;
          return;
        }
      } else {
        const cfg = loadOrExit(o.config);
        const dir = buildDirectory(cfg, createLogger('silent'));
        if (!dir.ok) throw new Error(dir.problems.join('\n'));
        const claim = claimOfLogon(o.user);
        if (!claim) throw new Error('user must be DOMAIN\\user or user@domain');
        const r = await dir.provider.lookup(claim);
        await dir.provider.close();
        const states = new UserStateStore(cfg.lockout);
        out =
          r.status === 'found'
            ? { user: r.entry.key, groups: r.entry.groups, decision: evaluate(compilePolicy(cfg.policy), { subject: { kind: 'user', entry: r.entry }, protocol: o.protocol as Protocol, zone: o.zone, clientAddress: o.client }, states) }
            : { user: o.user, decision: { allow: false, reasons: [r.status === 'not-found' ? 'unknown-user' : r.status] } };
      }
      const d = out.decision;
      console.log(`${String(out.user)} ${o.protocol} from ${o.zone}: ${d.allow ? pc.green('ALLOW') : pc.red('DENY')}`);
      console.log(`  reasons: ${d.reasons.join(', ')}${d.rule ? `\n  rule:    ${d.rule}` : ''}`);
      if (Array.isArray(out.groups)) console.log(`  groups:  ${out.groups.join(', ') || '(none)'}`);
      process.exitCode = d.allow ? 0 : 3;
    });

  program
    .command('cas-plan')
    .description('print the Set-CASMailbox commands that make Exchange enforce the same policy (PowerShell or JSON)')
    .requiredOption('-c, --config <file>', 'gateway configuration (file directory)')
    .option('--current <file>', 'JSON export of Get-CASMailbox (Identity, MAPIBlockOutlookRpcHttp, MAPIBlockOutlookExternalConnectivity): print only changes')
    .option('--json', 'JSON instead of PowerShell')
    .action(async (o: { config: string; current?: string; json?: boolean }) => {
      const cfg = loadOrExit(o.config);
      const plan = await casPlan(cfg, o.current);
      console.log(o.json ? JSON.stringify(plan, null, 2) : renderPowerShell(plan));
    });
}
