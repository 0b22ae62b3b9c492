// The `audit:` section alone from a gateway config file, for `portcullis audit`: an auditor needs
// the trail, not read access to the TLS keys and certificates that loading the whole config checks.
import path from 'node:path';
import { zodProblems } from '../yaml/zod-problems.js';
import { type Problem, readYamlValue } from '../yaml/yaml-source.js';
import { type AuditConfig, auditSchema } from './audit-schema.js';

export function loadAuditSection(file: string): { ok: true; audit: AuditConfig } | { ok: false; problems: Problem[] } {
  const abs = path.resolve(file);
  const read = readYamlValue(abs);
  if (!read.ok) return read;
  const raw = (read.value as Record<string, unknown> | null)?.['audit'];
  const parsed = auditSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    for (const i of parsed.error.issues) i.path.unshift('audit');
    return { ok: false, problems: zodProblems(read.positions(), parsed.error) };
  }
  const base = path.dirname(abs);
  const a = parsed.data;
  return {
    ok: true,
    audit: {
      ...a,
      dataDir: path.resolve(base, a.dataDir),
      ...(a.postgres?.passwordFile ? { postgres: { ...a.postgres, passwordFile: path.resolve(base, a.postgres.passwordFile) } } : {}),
    },
  };
}
