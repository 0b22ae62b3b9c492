// Who may sign in to the console: local accounts (argon2id hashes in admin.console.accounts) and
// members of directory groups (admin.console.directoryGroups), whose password the directory checks
// (LDAP bind). Local accounts are looked at first; a login with a domain (LAB\alice,
// alice@lab.example) that is no local account goes to the directory.
import type { ConsoleConfig, ConsoleRole } from '../admin-schema.js';
import { claimOfLogon } from '../../identity/basic.js';
import type { DirectoryProvider } from '../../directory/provider.js';
import { verifyPassword } from './password-hash.js';

export type SignInResult =
  | { readonly ok: true; readonly login: string; readonly role: ConsoleRole; readonly source: 'local' | 'directory' }
  | { readonly ok: false; readonly outcome: 'bad-password' | 'password-expired' | 'unknown-account' | 'not-in-group' | 'directory-unavailable' };

/** The role the directory groups give someone in these groups (operator wins), if any. */
export function roleOfGroups(groups: readonly string[], rules: ConsoleConfig['directoryGroups']): ConsoleRole | undefined {
  const have = new Set(groups.map((g) => g.toLowerCase()));
  const roles = rules.filter((r) => have.has(r.group.toLowerCase())).map((r) => r.role);
  return roles.includes('operator') ? 'operator' : roles[0];
}

export async function checkSignIn(cfg: ConsoleConfig, directory: (() => DirectoryProvider) | undefined, login: string, password: string): Promise<SignInResult> {
  const local = cfg.accounts.find((a) => a.login.toLowerCase() === login.toLowerCase());
  const isDirectoryName = /[\\@]/.test(login) && cfg.directoryGroups.length > 0 && directory !== undefined;
  if (local || !isDirectoryName) {
    // An unknown local name costs a dummy verification: the answer time names no account.
    const ok = await verifyPassword(local?.passwordHash, password);
    if (!local) return { ok: false, outcome: 'unknown-account' };
    return ok ? { ok: true, login: local.login, role: local.role, source: 'local' } : { ok: false, outcome: 'bad-password' };
  }
  const dir = directory!();
  const claim = claimOfLogon(login);
  const found = claim ? await dir.lookup(claim) : ({ status: 'not-found' } as const);
  if (found.status === 'unavailable') return { ok: false, outcome: 'directory-unavailable' };
  if (found.status !== 'found' || !found.entry.enabled) {
    await verifyPassword(undefined, password);
    return { ok: false, outcome: 'unknown-account' };
  }
  const role = roleOfGroups(found.entry.groups, cfg.directoryGroups);
  if (!dir.verifyPassword) return { ok: false, outcome: 'directory-unavailable' };
  const checked = await dir.verifyPassword(found.entry, password);
  if (checked === 'unavailable') return { ok: false, outcome: 'directory-unavailable' };
  if (checked === 'expired') return { ok: false, outcome: 'password-expired' };
  if (checked !== 'ok') return { ok: false, outcome: 'bad-password' };
  // The password is checked before the group, so a wrong password never learns the membership.
  if (!role) return { ok: false, outcome: 'not-in-group' };
  return { ok: true, login: found.entry.key, role, source: 'directory' };
}
