// The PostgreSQL connection settings shared by the audit trail and the state store (one database
// may serve both). Imports nothing of the features.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const postgresConnectionSchema = z
  .object({
    url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL').describe('Connection URL (postgres://user@host:port/db).'),
    passwordFile: z.string().min(1).optional().describe('File holding the password, relative to this config file (kept out of the URL).'),
  })
  .strict();

/** The password in `passwordFile`, if one is named; a file that cannot be read is one line of `problem`. */
export function postgresPassword(c: { readonly passwordFile?: string | undefined }, problem: (message: string) => Error): string | undefined {
  if (!c.passwordFile) return undefined;
  try {
    return readFileSync(c.passwordFile, 'utf8').trim();
  } catch (e) {
    throw problem(`cannot read passwordFile ${c.passwordFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
