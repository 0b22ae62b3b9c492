// The PostgreSQL connection settings shared by the audit trail and the state store (one database
// may serve both). Imports nothing of the features.
import { z } from 'zod';

export const postgresConnectionSchema = z
  .object({
    url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL').describe('Connection URL (postgres://user@host:port/db).'),
    passwordFile: z.string().min(1).optional().describe('File holding the password, relative to this config file (kept out of the URL).'),
  })
  .strict();
