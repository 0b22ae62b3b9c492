// The directory as the CLI's offline commands (`policy explain -c`, `cas-plan`, `config check`)
// open it: a bad directory file is every problem at file:line:column and one closing line saying
// what to do, never an exception's dump.
import type { Logger } from 'pino';
import { createLogger } from '../audit/logger.js';
import type { GatewayConfig } from '../config/schema.js';
import { formatProblem } from '../config/yaml-source.js';
import { buildDirectory } from '../directory/build-provider.js';
import { loadDirectoryFile } from '../directory/file-directory.js';
import { entryOf } from '../directory/file-provider.js';
import { LdapDirectory } from '../directory/ldap-provider.js';
import type { DirectoryEntry, DirectoryProvider } from '../directory/provider.js';
import { CliError } from './cli-error.js';

/** Throws the directory's problems, one line each (the last says what to do). */
function directoryProblems(lines: readonly string[], what: string): never {
  throw new CliError(`${lines.join('\n')}\n${lines.length} problem(s) in ${what}: fix them, then run again (portcullis config check lists them too)`);
}

/** The configured directory, or a CliError naming every problem of its file. */
export function openDirectory(cfg: GatewayConfig, log: Logger = createLogger('silent')): DirectoryProvider {
  const d = buildDirectory(cfg, log);
  if (!d.ok) directoryProblems(d.problems, cfg.directory?.provider === 'file' ? `the directory file ${cfg.directory.file}` : 'the directory settings');
  return d.provider;
}

/** Every mailbox user, from the file directory or LDAP / AD. */
export async function mailboxUsers(cfg: GatewayConfig): Promise<DirectoryEntry[]> {
  const d = cfg.directory;
  if (!d) throw new CliError('the configuration has no directory section: cas-plan needs the users (directory.provider: file or ldap)');
  if (d.provider === 'file') {
    const r = loadDirectoryFile(d.file);
    if (!r.ok) directoryProblems(r.problems.map(formatProblem), `the directory file ${d.file}`);
    return r.directory.data.users.map((u) => entryOf(r.directory, u));
  }
  const ldap = openDirectory(cfg) as LdapDirectory;
  try {
    return await ldap.listUsers();
  } catch (e) {
    throw new CliError(`directory-unavailable: ${(e as Error).message} (check directory.urls, the service account and the network, then run again)`);
  } finally {
    await ldap.close();
  }
}
