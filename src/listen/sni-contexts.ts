import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { ListenerConfig } from './listen-schema.js';
import { secureContextOptions } from './tls-defaults.js';

export interface SniTable {
  /** Picks the context for an SNI name; undefined means "use the default". */
  lookup(servername: string): tls.SecureContext | undefined;
  readonly defaultContext: { cert: Buffer; key: Buffer };
}

/** DNS names in a certificate's subjectAltName (lower-case, wildcards kept as "*.domain"). */
export function certificateNames(pem: Buffer): string[] {
  const san = new X509Certificate(pem).subjectAltName ?? '';
  return san
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
}

/**
 * Builds the SNI table of a listener: each certificate answers for its configured names or, by
 * default, the DNS names in its SAN; exact names win over wildcards; the first is the default.
 */
export function buildSniTable(cfg: ListenerConfig['tls']): SniTable {
  const exact = new Map<string, tls.SecureContext>();
  const wildcard = new Map<string, tls.SecureContext>();
  let defaultContext: { cert: Buffer; key: Buffer } | undefined;
  const params = secureContextOptions(cfg);
  for (const c of cfg.certificates) {
    const cert = readFileSync(c.cert);
    const key = readFileSync(c.key);
    defaultContext ??= { cert, key };
    // Same ciphers, groups and renegotiation refusal for every name: SNI must not pick weaker TLS.
    const ctx = tls.createSecureContext({ cert, key, ...params });
    for (const name of c.serverNames?.map((n) => n.toLowerCase()) ?? certificateNames(cert)) {
      if (name.startsWith('*.')) {
        if (!wildcard.has(name.slice(2))) wildcard.set(name.slice(2), ctx);
      } else if (!exact.has(name)) exact.set(name, ctx);
    }
  }
  return {
    defaultContext: defaultContext!,
    lookup(servername) {
      const n = servername.toLowerCase();
      const hit = exact.get(n);
      if (hit) return hit;
      const dot = n.indexOf('.');
      return dot > 0 ? wildcard.get(n.slice(dot + 1)) : undefined;
    },
  };
}
