import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { type GatewayConfig, configSchema } from './schema.js';
import { type Positions, type Problem, type YamlSource, problemAt, readYamlValue } from '../yaml/yaml-source.js';
import { zodProblems } from '../yaml/zod-problems.js';

export { zodProblems };

export type LoadResult =
  | { readonly ok: true; readonly config: GatewayConfig; readonly file: string; readonly warnings: Problem[] }
  | { readonly ok: false; readonly problems: Problem[] };

/** Turns zod issues into positioned problems. */

/**
 * Loads and validates a gateway config. Every problem is collected (syntax, schema, then files on
 * disk) so an admin fixes them in one pass; relative paths are resolved against the file's folder.
 * A file in the fast parser's subset is read without positions: they are found only to place a
 * problem.
 */
export function loadConfig(file: string, text?: string): LoadResult {
  const abs = path.resolve(file);
  const read = readYamlValue(abs, text);
  if (!read.ok) return read;
  const { value, positions: src } = read;
  const parsed = configSchema.safeParse(value ?? {});
  if (!parsed.success) return { ok: false, problems: zodProblems(src(), parsed.error) };
  const config = resolvePaths(parsed.data, path.dirname(abs));
  const problems = checkFiles(src, config);
  const warnings: Problem[] = [];
  if (config.upstream.tls.insecure) {
    warnings.push(problemAt(src(), ['upstream', 'tls', 'insecure'], 'upstream TLS verification is OFF: anyone on the path can impersonate Exchange'));
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: Object.freeze(config), file: abs, warnings };
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
    ...(c.admin?.tokenFile ? { admin: { ...c.admin, tokenFile: r(c.admin.tokenFile) } } : {}),
    audit: {
      ...c.audit,
      dataDir: r(c.audit.dataDir),
      ...(c.audit.postgres?.passwordFile ? { postgres: { ...c.audit.postgres, passwordFile: r(c.audit.postgres.passwordFile) } } : {}),
    },
  };
}

function checkFiles(source: () => YamlSource | Positions, c: GatewayConfig): Problem[] {
  const problems: Problem[] = [];
  // Positions only when there is a problem to place.
  const place = (p: ReadonlyArray<PropertyKey>, message: string) => problemAt(source(), p, message);
  c.listeners.forEach((l, li) => {
    l.tls.certificates.forEach((cert, ci) => {
      const at = ['listeners', li, 'tls', 'certificates', ci];
      let x509: X509Certificate | undefined;
      try {
        x509 = new X509Certificate(readFileSync(cert.cert));
      } catch (e) {
        problems.push(place([...at, 'cert'], `cannot read certificate ${cert.cert}: ${(e as Error).message}`));
      }
      try {
        const key = createPrivateKey(readFileSync(cert.key));
        if (x509 && !x509.checkPrivateKey(key)) problems.push(place([...at, 'key'], 'private key does not match the certificate'));
      } catch (e) {
        problems.push(place([...at, 'key'], `cannot read private key ${cert.key}: ${(e as Error).message}`));
      }
    });
  });
  if (c.upstream.tls.ca && !existsSync(c.upstream.tls.ca)) {
    problems.push(place(['upstream', 'tls', 'ca'], `CA file ${c.upstream.tls.ca} does not exist`));
  }
  const d = c.directory;
  if (d?.provider === 'file' && !existsSync(d.file)) {
    problems.push(place(['directory', 'file'], `directory file ${d.file} does not exist`));
  }
  if (d?.provider === 'ldap') {
    if (!d.bindPassword && !d.bindPasswordFile) problems.push(place(['directory'], 'ldap needs bindPassword or bindPasswordFile'));
    if (d.bindPasswordFile && !existsSync(d.bindPasswordFile)) problems.push(place(['directory', 'bindPasswordFile'], `${d.bindPasswordFile} does not exist`));
    if (d.ca && !existsSync(d.ca)) problems.push(place(['directory', 'ca'], `CA file ${d.ca} does not exist`));
    if (d.url.startsWith('ldap://') && !d.startTls) problems.push(place(['directory', 'url'], 'plain ldap:// sends the service password in clear: use ldaps:// or startTls: true'));
  }
  if (c.preauth === 'ldap' && d?.provider !== 'ldap') problems.push(place(['preauth'], 'preauth: ldap needs directory.provider: ldap'));
  c.policy.rules.forEach((rule, i) => {
    if (rule.effect === 'allow' && !rule.groups && !rule.users && !rule.authentication && !rule.clientCidrs) {
      problems.push(place(['policy', 'rules', i], `allow rule "${rule.name}" matches every user: name groups, users or clientCidrs`));
    }
  });
  return problems;
}
