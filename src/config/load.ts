import path from 'node:path';
import { type GatewayConfig, configSchema } from './schema.js';
import { fileProblems } from './file-checks.js';
import { configWarnings } from './config-warnings.js';
import { type Positions, type Problem, type YamlSource, problemAt, readYamlValue } from '../yaml/yaml-source.js';
import { zodProblems } from '../yaml/zod-problems.js';

export { zodProblems };

export type LoadResult =
  | { readonly ok: true; readonly config: GatewayConfig; readonly file: string; readonly warnings: Problem[] }
  | {
      readonly ok: false;
      readonly problems: Problem[];
      readonly warnings?: Problem[];
      /** The directory file the config names (absolute), so that `config check` reports its problems in the same pass. */
      readonly directoryFile?: string;
      /** The config as far as the schema accepted it (its files had problems): for cross-checks in the same pass. */
      readonly parsed?: GatewayConfig;
    };

/**
 * Loads and validates a gateway config. Every problem is collected in one pass (syntax; then the
 * schema and the files on disk together, the files read from the raw value so that a schema
 * problem elsewhere does not hide them; then what needs a valid config); relative paths are
 * resolved against the file's folder. A file in the fast parser's subset is read without
 * positions: they are found only to place a problem.
 */
export function loadConfig(file: string, text?: string): LoadResult {
  const abs = path.resolve(file);
  const read = readYamlValue(abs, text);
  if (!read.ok) return read;
  const { value, positions: src } = read;
  const place = (at: ReadonlyArray<PropertyKey>, message: string, missingFile?: string): Problem => ({
    ...problemAt(src(), at, message),
    ...(missingFile ? { missingFile } : {}),
  });
  const parsed = configSchema.safeParse(value ?? {});
  const problems = [...(parsed.success ? [] : zodProblems(src(), parsed.error, configSchema, value ?? {})), ...fileProblems(value, path.dirname(abs), place)];
  if (!parsed.success) return { ok: false, problems, ...rawDirectoryFile(value, path.dirname(abs)) };
  const config = resolvePaths(parsed.data, path.dirname(abs));
  problems.push(...configProblems(config, place));
  const warnings = configWarnings(config, value, place);
  if (problems.length > 0) return { ok: false, problems, warnings, parsed: config, ...(config.directory?.provider === 'file' ? { directoryFile: config.directory.file } : {}) };
  return { ok: true, config: Object.freeze(config), file: abs, warnings };
}

function rawDirectoryFile(raw: unknown, base: string): { directoryFile?: string } {
  const d = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['directory'] : undefined;
  const f = typeof d === 'object' && d !== null && (d as Record<string, unknown>)['provider'] === 'file' ? (d as Record<string, unknown>)['file'] : undefined;
  return typeof f === 'string' && f !== '' ? { directoryFile: path.resolve(base, f) } : {};
}

function resolvePaths(c: GatewayConfig, base: string): GatewayConfig {
  const r = (p: string) => path.resolve(base, p);
  return {
    ...c,
    listeners: c.listeners.map((l) => ({
      ...l,
      tls: { ...l.tls, certificates: l.tls.certificates.map((cert) => ({ ...cert, cert: r(cert.cert), key: r(cert.key) })) },
    })),
    upstream: { ...c.upstream, tls: { ...c.upstream.tls, ...(c.upstream.tls.ca ? { ca: r(c.upstream.tls.ca) } : {}) } },
    ...(c.directory?.provider === 'file' ? { directory: { ...c.directory, file: r(c.directory.file) } } : {}),
    ...(c.directory?.provider === 'ldap'
      ? {
          directory: {
            ...c.directory,
            ...(c.directory.ca ? { ca: r(c.directory.ca) } : {}),
            ...(c.directory.bindPasswordFile ? { bindPasswordFile: r(c.directory.bindPasswordFile) } : {}),
          },
        }
      : {}),
    ...(c.identity?.bearer
      ? {
          identity: {
            ...c.identity,
            bearer: {
              ...c.identity.bearer,
              ...(c.identity.bearer.jwksFile ? { jwksFile: r(c.identity.bearer.jwksFile) } : {}),
              ...(c.identity.bearer.pemFile ? { pemFile: r(c.identity.bearer.pemFile) } : {}),
            },
          },
        }
      : {}),
    ...(c.admin?.tokenFile ? { admin: { ...c.admin, tokenFile: r(c.admin.tokenFile), ...(c.admin.tls ? { tls: { cert: r(c.admin.tls.cert), key: r(c.admin.tls.key) } } : {}) } } : {}),
    audit: {
      ...c.audit,
      dataDir: r(c.audit.dataDir),
      ...(c.audit.postgres?.passwordFile ? { postgres: { ...c.audit.postgres, passwordFile: r(c.audit.postgres.passwordFile) } } : {}),
    },
    ...(c.signin
      ? {
          signin: {
            ...c.signin,
            ...(c.signin.logo ? { logo: r(c.signin.logo) } : {}),
            keyFile: c.signin.keyFile ? r(c.signin.keyFile) : path.join(r(c.state.dataDir), 'signin.key'),
            ...(c.signin.secondFactor ? { secondFactor: { keyFile: r(c.signin.secondFactor.keyFile), previousKeyFiles: c.signin.secondFactor.previousKeyFiles.map(r) } } : {}),
          },
        }
      : {}),
    state: {
      ...c.state,
      dataDir: r(c.state.dataDir),
      ...(c.state.postgres?.passwordFile ? { postgres: { ...c.state.postgres, passwordFile: r(c.state.postgres.passwordFile) } } : {}),
    },
  };
}

/** What only a valid config can tell: settings that contradict each other. */
function configProblems(c: GatewayConfig, place: (at: ReadonlyArray<PropertyKey>, message: string) => Problem): Problem[] {
  const problems: Problem[] = [];
  const d = c.directory;
  if (d?.provider === 'ldap') {
    if (!d.bindPassword && !d.bindPasswordFile) problems.push(place(['directory'], 'required: "bindPassword" or "bindPasswordFile" (the service account\'s password)'));
  }
  if (c.preauth === 'ldap' && d?.provider !== 'ldap') problems.push(place(['preauth'], 'preauth: ldap needs directory.provider: ldap'));
  if (c.signin && !d) problems.push(place(['signin'], 'signin needs a directory (directory.provider file or ldap): the sign-in page checks users against it'));
  const bearer = c.identity?.bearer;
  if (bearer && !bearer.jwksFile && !bearer.pemFile) problems.push(place(['identity', 'bearer'], 'needs jwksFile or pemFile: without keys no Bearer token could ever name a user'));
  if (bearer?.jwksFile && bearer.pemFile) problems.push(place(['identity', 'bearer', 'pemFile'], 'give jwksFile or pemFile, not both (only one would be used)'));
  const asking = c.policy.rules.findIndex((rule) => rule.secondFactor === 'required');
  if (c.signin && !c.signin.secondFactor && asking >= 0) {
    problems.push(place(['policy', 'rules', asking, 'secondFactor'], `rule "${c.policy.rules[asking]!.name}" asks for a second factor, but signin has no secondFactor section: set signin.secondFactor.keyFile (portcullis second-factor keygen FILE writes a key), or browsers it matches could never sign in`));
  }
  c.policy.rules.forEach((rule, i) => {
    if (rule.effect === 'allow' && !rule.groups && !rule.users && !rule.authentication && !rule.clientCidrs) {
      problems.push(place(['policy', 'rules', i], `allow rule "${rule.name}" matches every user: name groups, users or clientCidrs`));
    }
  });
  return problems;
}
