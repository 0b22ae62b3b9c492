// `portcullis second-factor reset <user>` and `second-factor keygen <file>`. The reset acts on the
// state store itself, not through the running gateway: the gateway keeps no second-factor state in
// memory (every check reads the store), so a reset is seen by every worker and instance at their
// next check; and a reset is what an admin does for a user who lost their phone, which must work
// while the gateway is down or restarting. It needs no key (it only forgets). The running gateway
// offers the same as POST /api/second-factor/reset (the console, remote admins).
import path from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { makeRecord } from '../audit/audit-record.js';
import { secondFactorResetRecord } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import { loadSqlite, openAuditStore } from '../audit/audit-trail.js';
import { SQLITE_FILE } from '../audit/audit-schema.js';
import type { GatewayConfig } from '../config/schema.js';
import type { SecondFactorResetEvent } from '../events.js';
import { claimOfLogon } from '../identity/basic.js';
import { buildSecondFactorStore } from '../state/open-second-factor-store.js';
import { generateKeyFile, SecretBoxError } from '../signin/secret-box.js';
import { resetSecondFactor } from '../signin/second-factor-reset.js';
import { CliError } from './cli-error.js';
import { openDirectory } from './cli-directory.js';
import { callerName, loadOrFail } from './commands-access.js';

/**
 * The user's directory key (the spelling the sign-in flow stores under), as the admin endpoint
 * resolves it: a UPN becomes DOMAIN\user; a name the directory does not know is refused unless
 * `force` (then DOMAIN\user as written); with the directory down, DOMAIN\user is taken as written.
 */
async function userKeyOf(cfg: GatewayConfig, user: string, force: boolean): Promise<{ key: string; note?: string }> {
  const claim = claimOfLogon(user);
  if (!claim) throw new CliError(`user must be DOMAIN\\user or user@domain, not "${user}"`);
  const asGiven = claim.domain ? `${claim.domain.toUpperCase()}\\${claim.user.toLowerCase()}` : undefined;
  if (!cfg.directory) {
    if (asGiven) return { key: asGiven };
    throw new CliError(`the configuration has no directory to resolve "${user}": give the user as DOMAIN\\user`);
  }
  const dir = openDirectory(cfg);
  const r = await dir.lookup(claim).finally(() => dir.close());
  if (r.status === 'found') return { key: r.entry.key };
  if (r.status === 'unavailable' && asGiven) return { key: asGiven, note: `the directory could not confirm ${asGiven} (${r.reason}): reset by the name as given` };
  if (r.status === 'unavailable') throw new CliError(`directory-unavailable: ${r.reason} (give the user as DOMAIN\\user to act on the name as written)`);
  if (force && asGiven) return { key: asGiven };
  throw new CliError(`${user} ${r.status === 'unknown-domain' ? 'is in no domain this gateway serves' : 'is not in the directory'}: check the spelling (--force resets a DOMAIN\\user name as given)`);
}

/** Writes the reset's record to the audit trail itself: no gateway process is there to record it. */
async function recordReset(cfg: GatewayConfig, e: SecondFactorResetEvent): Promise<void> {
  const a = cfg.audit;
  if (a.store === 'off') return;
  let store: AuditStore | undefined;
  try {
    if (a.store === 'sqlite') {
      // Not the gateway's threaded writer: one record, in this process, on the same WAL file.
      const file = path.join(a.dataDir, SQLITE_FILE);
      store = new (await loadSqlite(file))(file);
    } else store = await openAuditStore(a);
    await store!.migrate();
    await store!.append([makeRecord(secondFactorResetRecord(e))]);
  } finally {
    await store?.close();
  }
}

export function registerSecondFactorCommands(program: Command): void {
  const sf = program.command('second-factor').description('the second factor of browser sign-in (TOTP and passkeys)');
  sf.command('reset')
    .argument('<user>', "DOMAIN\\user or UPN, e.g. 'LAB\\alice'")
    .description("forget a user's TOTP secret and passkeys: they enrol again at their next sign-in (works with the gateway stopped)")
    .requiredOption('-c, --config <file>', "the gateway's configuration: its state store, directory and audit trail")
    .option('--force', 'reset the DOMAIN\\user name as given even if the directory does not know it')
    .action(async (user: string, o: { config: string; force?: boolean }) => {
      const cfg = loadOrFail(o.config);
      if (cfg.state.store === 'memory') throw new CliError(`${o.config} has state.store: memory: the second factor lives inside the running gateway, so reset it there (POST /api/second-factor/reset on the admin endpoint)`);
      const { key, note } = await userKeyOf(cfg, user, o.force === true);
      const store = buildSecondFactorStore(cfg.state);
      let e: SecondFactorResetEvent;
      try {
        await store.open();
        const name = callerName();
        e = await resetSecondFactor(store, key, name && /^[\w.@\\-]{1,64}$/.test(name) ? `admin:${name}` : 'admin');
      } catch (err) {
        throw new CliError(`${(err as Error).message} (the second factor is kept in the state store: check the state section of ${o.config})`);
      } finally {
        await store.close();
      }
      if (note) console.error(pc.yellow(`note: ${note}`));
      const what = e.totp || e.passkeys > 0 ? `${e.totp ? 'TOTP secret' : 'no TOTP secret'} and ${e.passkeys} passkey(s) forgotten` : 'nothing was enrolled';
      console.log(`${key}: second factor reset (${what}); the user enrols again at the next sign-in`);
      try {
        await recordReset(cfg, e);
      } catch (err) {
        // The reset stands (the user is waiting); the missing record must not go unnoticed.
        console.error(pc.red(`the audit trail could not record this reset: ${(err as Error).message}`));
        process.exitCode = 2;
      }
    });

  sf.command('keygen')
    .argument('<file>', 'where to write the key (must not exist)')
    .description('write a new key for signin.secondFactor.keyFile (32 random bytes, base64, mode 0600)')
    .action((file: string) => {
      let id: string;
      try {
        id = generateKeyFile(file);
      } catch (e) {
        throw new CliError(e instanceof SecretBoxError ? e.message : String(e));
      }
      console.log(`wrote ${file} (key id ${id}, mode 0600): name it in signin.secondFactor.keyFile; to rotate, move the old file to previousKeyFiles`);
    });
}
