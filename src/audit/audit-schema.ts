// The `audit:` section of the gateway config. Only config/schema.ts imports it.
import { z } from 'zod';
import { postgresConnectionSchema } from '../vocabulary/postgres-connection.js';
import { duration } from '../vocabulary/duration.js';

/** The SQLite store's file in dataDir. */
export const SQLITE_FILE = 'audit.sqlite';

export const AUDIT_LEVELS = ['decisions', 'requests'] as const;
export type AuditLevel = (typeof AUDIT_LEVELS)[number];

/** The durability promise: after kill -9 at most this much of the latest records is missing. */
export const DEFAULT_COMMIT_INTERVAL = '200ms';

export const auditSchema = z
  .object({
    store: z
      .enum(['sqlite', 'postgres', 'off'])
      .default('sqlite')
      .describe(
        'Where audit records go: sqlite (a file in dataDir, the embedded default), postgres (one database for several gateway instances), ' +
          'or off (no audit trail; not advisable).',
      ),
    dataDir: z
      .string()
      .min(1)
      .default('data')
      .describe('Folder for the SQLite file (audit.sqlite) and the spool file, relative to this config file; created when missing.'),
    level: z
      .enum(AUDIT_LEVELS)
      .default('decisions')
      .describe(
        'decisions: every denial, identity binding, close of an identified connection and state change. ' +
          'requests: also one record per allowed request (MAPI clients make many: size the store for it).',
      ),
    commitInterval: duration(
      'Records are committed in batches at this interval; after a crash (kill -9) at most this much of the latest records is missing. At most 250ms.',
    )
      .pipe(z.number().min(10, 'at least 10ms').max(250, 'at most 250ms: the durability promise'))
      .prefault(DEFAULT_COMMIT_INTERVAL),
    maxQueue: z
      .number()
      .int()
      .min(100)
      .default(10_000)
      .describe('Records held in memory before they go to the spool file: the queue never grows beyond it and never stalls a request.'),
    retentionDays: z
      .number()
      .int()
      .min(0)
      .default(90)
      .describe('Records older than this many days are pruned (hourly and at start); 0 keeps everything.'),
    postgres: postgresConnectionSchema.optional().describe('PostgreSQL connection, required with store: postgres.'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.store === 'postgres' && !v.postgres) ctx.addIssue({ code: 'custom', path: ['postgres'], message: 'store: postgres needs postgres.url' });
  })
  .describe('The durable audit trail: who connected from where to what, and why they were let in or refused.');

export type AuditConfig = z.output<typeof auditSchema>;
