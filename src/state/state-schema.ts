// The `state:` section of the gateway config: where per-user state lives (revocations, lockout
// counts and locks; src/state/state-store.ts). Only config/schema.ts imports it.
import { z } from 'zod';
import { postgresConnectionSchema } from '../vocabulary/postgres-connection.js';

/** The SQLite file in dataDir that holds the embedded state. */
export const STATE_SQLITE_FILE = 'state.sqlite';

export const stateSchema = z
  .object({
    store: z
      .enum(['sqlite', 'postgres', 'memory'])
      .default('sqlite')
      .describe(
        'Where revocations, lockout counts and locks are kept: sqlite (a file in dataDir; a restart forgets nothing), ' +
          'postgres (shared by several gateway instances: a revoke or lock on one is enforced by all within a second), or memory (forgotten at restart; tests only).',
      ),
    dataDir: z
      .string()
      .min(1)
      .default('data')
      .describe('Folder for state.sqlite, relative to this config file; created when missing. May be the audit trail\'s folder.'),
    postgres: postgresConnectionSchema.optional().describe('PostgreSQL connection, required with store: postgres. May be the audit trail\'s database.'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.store === 'postgres' && !v.postgres) ctx.addIssue({ code: 'custom', path: ['postgres'], message: 'store: postgres needs postgres.url' });
  })
  .describe(
    'Revocations, lockout counts and locks, shared by every worker and, with postgres, by every gateway instance. ' +
      'With PostgreSQL unreachable an instance serves with the last state it knew (docs/configuration/state.md).',
  );

export type StateConfig = z.output<typeof stateSchema>;
