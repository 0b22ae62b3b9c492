// `portcullis audit`: reads the audit trail the running gateway writes (the store named by the
// config's audit section, or a store given directly) with filters, as a table, JSON lines or CSV.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadAuditSection } from '../audit/audit-config-file.js';
import { formatProblem } from '../yaml/yaml-source.js';
import type { StoredRecord } from '../audit/audit-record.js';
import { printer } from '../audit/audit-format.js';
import { type AuditArgs, DEFAULT_LIMIT, FORMATS, parseAuditArgs } from '../audit/audit-query-args.js';
import type { AuditStore } from '../audit/audit-store.js';
import { loadSqlite, openAuditStore } from '../audit/audit-trail.js';
import { LATEST_VERSION } from '../audit/migrations.js';
import { PostgresAuditStore } from '../audit/postgres-store.js';
import { SQLITE_FILE } from '../audit/audit-schema.js';

/** How often --follow asks for new records. */
const FOLLOW_POLL_MS = 500;
/**
 * PostgreSQL hands out ids when a transaction inserts, not when it commits: a record from another
 * instance's transaction may appear with a smaller id than one already printed. --follow looks this
 * many ids back and prints each record once.
 */
const FOLLOW_LOOKBACK = 1000;

export interface Options extends AuditArgs {
  readonly config?: string;
  readonly sqlite?: string;
  readonly postgres?: string;
  readonly follow?: boolean;
}

class UsageError extends Error {}

export async function openStore(o: Options): Promise<AuditStore> {
  const given = [o.config, o.sqlite, o.postgres].filter((x) => x !== undefined).length;
  if (given !== 1) throw new UsageError('name the audit trail with exactly one of -c <gateway config>, --sqlite <file> or --postgres <url>');
  if (o.sqlite !== undefined) {
    if (!existsSync(o.sqlite)) throw new UsageError(`no audit trail at ${o.sqlite} (the file does not exist)`);
    return new (await loadSqlite(o.sqlite))(o.sqlite, { readOnly: true });
  }
  if (o.postgres !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(o.postgres)) throw new UsageError(`--postgres must be a postgres:// URL, not "${o.postgres}"`);
    return new PostgresAuditStore({ url: o.postgres });
  }
  const r = loadAuditSection(o.config!);
  if (!r.ok) throw new UsageError(`${r.problems.map(formatProblem).join('\n')}\n${r.problems.length} problem(s) in ${o.config}`);
  const a = r.audit;
  if (a.store === 'off') throw new UsageError(`${o.config} has audit.store: off: there is no audit trail to read`);
  if (a.store === 'sqlite' && !existsSync(path.join(a.dataDir, SQLITE_FILE))) {
    throw new UsageError(`no audit trail yet at ${path.join(a.dataDir, SQLITE_FILE)} (has the gateway run with this config?)`);
  }
  return (await openAuditStore(a, { readOnly: true }))!;
}

async function run(o: Options): Promise<void> {
  const q = parseAuditArgs(o);
  if (o.follow && q.filter.until !== undefined) throw new UsageError('--follow prints new records as they come: it cannot be combined with --until');
  const store = await openStore(o);
  try {
    await answer(store, o, q);
  } catch (e) {
    throw new Error(`${store.describe}: ${(e as Error).message}`);
  } finally {
    await store.close().catch(() => {});
  }
}

async function answer(store: AuditStore, o: Options, q: ReturnType<typeof parseAuditArgs>): Promise<void> {
  const version = await store.schemaVersion();
  if (version > LATEST_VERSION) throw new Error(`the audit trail has schema version ${version}, newer than this portcullis knows (${LATEST_VERSION}): use the gateway's version`);
  const write = (line: string) => void process.stdout.write(`${line}\n`);
  const print = printer(q.format, write);
  // The newest `limit` records, printed oldest first.
  const rows = version === 0 ? [] : (await store.query(q.filter, { order: 'desc', limit: q.limit })).reverse();
  for (const r of rows) print(r);
  if (!o.follow && rows.length === q.limit) process.stderr.write(`(the newest ${q.limit} records; --limit or --since for others)\n`);
  if (!o.follow) return;
  await follow(store, q.filter, rows, print);
}

async function follow(store: AuditStore, filter: ReturnType<typeof parseAuditArgs>['filter'], printed: StoredRecord[], print: (r: StoredRecord) => void): Promise<never> {
  const lookback = store instanceof PostgresAuditStore ? FOLLOW_LOOKBACK : 0;
  let last = printed.at(-1)?.id ?? 0;
  if (printed.length === 0) last = (await store.query({}, { order: 'desc', limit: 1 }).catch(() => []))[0]?.id ?? 0;
  const seen = new Set(printed.map((r) => r.id));
  for (;;) {
    await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    let rows: StoredRecord[];
    try {
      rows = await store.query({ ...filter, afterId: Math.max(0, last - lookback) });
    } catch {
      continue; // a store restarting: ask again at the next poll
    }
    for (const r of rows) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      print(r);
      if (r.id > last) last = r.id;
    }
    for (const id of seen) if (id <= last - lookback) seen.delete(id);
  }
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('query the audit trail: who connected from where to what, and why they were let in or refused')
    .option('-c, --config <file>', "the gateway's configuration: its audit section names the trail")
    .option('--sqlite <file>', 'read this SQLite audit file (audit.sqlite in the data folder)')
    .option('--postgres <url>', 'read this PostgreSQL database (password from PGPASSWORD or ~/.pgpass)')
    .option('--user <name>', "DOMAIN\\user, a UPN or a bare name, any case (claimed users of denials too)")
    .option('--ip <address>', 'client IP address')
    .option('--protocol <name>', 'autodiscover, rpc, mapi, ews, eas, owa, ecp, oab, powershell, unknown')
    .option('--decision <allow|deny>', 'only allowed or only refused')
    .option('--reason <code>', 'a reason code, e.g. not-in-group, revoked, locked-out')
    .option('--event <name>', 'denied, login-failed, identity-bound, connection-closed, request, revoked, unrevoked, locked-out, unlocked, reload, reload-refused, drain, console-sign-in, admin-action, device-changed')
    .option('--device <id>', 'an ActiveSync DeviceId, any case')
    .option('--since <time>', 'from this time: 2026-12-01T08:00 (local), …Z (UTC), or ago: 30s, 15m, 2h, 7d')
    .option('--until <time>', 'before this time (same forms)')
    .option('--format <format>', FORMATS.join(', '), 'table')
    .option('--limit <n>', `the newest n records (default ${DEFAULT_LIMIT})`)
    .option('-f, --follow', 'then keep printing new records as the gateway writes them')
    .action(async (o: Options) => {
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(0);
      });
      try {
        await run(o);
      } catch (e) {
        console.error(`portcullis audit: ${(e as Error).message}`);
        process.exitCode = 1;
      }
    });
}
