/**
 * Named reasons: the same strings go to logs, audit, metrics labels and the admin UI, unchanged.
 */
export const REASONS = [
  'group-ok',
  'rule-allow',
  'not-in-group',
  'rule-deny',
  'default-allow',
  'default-deny',
  'user-disabled',
  'unknown-domain',
  'unknown-user',
  'revoked',
  'locked-out',
  'kerberos-denied',
  'kerberos-unidentified',
  'unidentified',
  'directory-unavailable',
  'anonymous-ntlm',
  'ntlm-v1',
  'malformed-credentials',
  'handshake-leg',
  'anonymous-path',
  'unauthenticated-answer',
  'bad-password',
  'identity-mismatch',
  'attempts-in-flight',
] as const;

export type Reason = (typeof REASONS)[number];

export interface Decision {
  readonly allow: boolean;
  /** Stable reason codes, most important first. */
  readonly reasons: readonly Reason[];
  /** The rule that decided, when one did. */
  readonly rule?: string;
}

export function allow(reasons: Reason[], rule?: string): Decision {
  return rule ? { allow: true, reasons, rule } : { allow: true, reasons };
}

export function deny(reasons: Reason[], rule?: string): Decision {
  return rule ? { allow: false, reasons, rule } : { allow: false, reasons };
}

