import path from 'node:path';
import { z } from 'zod';
import type { Command } from 'commander';
import pc from 'picocolors';
import { createLogger } from '../audit/logger.js';
import { loadConfig } from '../config/load.js';
import { configSchema, type GatewayConfig } from '../config/schema.js';
import { policyNameProblems } from '../config/cross-checks.js';
import { type Problem, formatProblem } from '../config/yaml-source.js';
import { loadDirectoryFile } from '../directory/file-directory.js';
import { LdapDirectory } from '../directory/ldap-provider.js';
import { keyFilePermissionProblems } from '../listen/key-permissions.js';
import { adminConfigWarnings } from '../admin/admin-guard.js';
import { DEMO_PKI_DIR } from './lab-defaults.js';

interface Report {
  readonly errors: string[];
  readonly warnings: string[];
}

/** A missing file the demo generates says so: the demo's config is checked before its first run too. */
function withHint(p: Problem): string {
  const line = formatProblem(p);
  return p.missingFile?.startsWith(DEMO_PKI_DIR + path.sep) ? `${line} (the demo generates it on its first run: npm run demo)` : line;
}

/** The directory file's own problems, then the policy's names checked against it. */
function checkFileDirectory(configFile: string, directoryFile: string, config: GatewayConfig | undefined, report: Report): void {
  const d = loadDirectoryFile(directoryFile);
  if (!d.ok) {
    // A missing directory file is already a problem of the config (directory.file: not found).
    if (!d.problems.every((p) => p.line === 0)) report.errors.push(...d.problems.map(formatProblem));
    return;
  }
  if (!config) return;
  const dir = d.directory;
  const source = `the directory file ${path.relative(process.cwd(), directoryFile) || directoryFile}`;
  const hasUser = (n: string) => (n.includes('\\') ? dir.byDownLevel(n.slice(0, n.indexOf('\\')), n.slice(n.indexOf('\\') + 1)) : n.includes('@') ? dir.byUserPrincipalName(n) : undefined) !== undefined;
  report.errors.push(...policyNameProblems(configFile, config.policy, { groups: dir.data.groups.map((g) => g.name), hasUser, users: dir.data.users.map((u) => `${u.domain}\\${u.sAMAccountName}`), source }).map(formatProblem));
}

/** With LDAP, the policy's groups are looked up: a warning for each the directory does not have, or for not being able to ask. */
async function checkLdapGroups(configFile: string, config: GatewayConfig, report: Report): Promise<void> {
  if (config.directory?.provider !== 'ldap') return;
  const names = [...new Set(config.policy.rules.flatMap((r) => r.groups ?? []))];
  if (names.length === 0) return;
  let ldap: LdapDirectory;
  try {
    ldap = new LdapDirectory(config.directory, createLogger('silent'));
  } catch (e) {
    report.warnings.push(`${configFile}: directory: the policy's groups were not checked: ${(e as Error).message}`);
    return;
  }
  try {
    const groups = await ldap.groupNames();
    const source = `the directory under ${config.directory.groupBaseDn ?? config.directory.baseDn}`;
    report.warnings.push(...policyNameProblems(configFile, config.policy, { groups, source }).map(formatProblem));
  } catch (e) {
    report.warnings.push(`${configFile}: directory: the policy's groups were not checked, the directory did not answer: ${(e as Error).message}`);
  } finally {
    await ldap.close();
  }
}

/** `config check FILE` and `config schema`. */
export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('check a configuration file or print its JSON Schema');
  config
    .command('check')
    .argument('<file>', 'gateway configuration (YAML)')
    .description('report every problem in a configuration and its directory, with file:line:column (with LDAP, the policy\'s groups are looked up)')
    .action(async (file: string) => {
      const r = loadConfig(file);
      const report: Report = { errors: r.ok ? [] : r.problems.map(withHint), warnings: (r.warnings ?? []).map(formatProblem) };
      const abs = path.resolve(file);
      if (r.ok) {
        for (const k of keyFilePermissionProblems(r.config)) report.warnings.push(k.message);
        for (const w of adminConfigWarnings(r.config.admin)) report.warnings.push(`${r.file}: ${w}`);
      }
      // The directory in the same pass: its problems do not wait for the config's to be fixed.
      const directoryFile = r.ok ? (r.config.directory?.provider === 'file' ? r.config.directory.file : undefined) : r.directoryFile;
      if (directoryFile) checkFileDirectory(abs, directoryFile, r.ok ? r.config : r.parsed, report);
      if (r.ok && report.errors.length === 0) await checkLdapGroups(abs, r.config, report);
      for (const e of report.errors) console.error(e);
      for (const w of report.warnings) console.error(pc.yellow(`warning: ${w}`));
      const warned = report.warnings.length > 0 ? `, ${report.warnings.length} warning(s)` : '';
      if (report.errors.length > 0) {
        console.error(pc.red(`${report.errors.length} problem(s)${warned} in ${file}`));
        process.exitCode = 1;
        return;
      }
      console.log(pc.green(`${file}: ok${warned}`));
    });
  config
    .command('schema')
    .description('print the JSON Schema of the configuration (for editors)')
    .action(() => {
      console.log(JSON.stringify(z.toJSONSchema(configSchema, { io: 'input' }), null, 2));
    });
}
