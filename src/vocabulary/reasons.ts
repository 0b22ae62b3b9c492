/**
 * Every reason code the gateway gives, in one typed list: the same strings go to the
 * X-Portcullis-Reason header, logs, audit records, metrics labels and the admin UI, unchanged.
 * Adding a code means adding it here (a label set that metrics and dashboards can rely on).
 */

/** What the policy and the access gate decide on (src/policy). */
export const POLICY_REASONS = [
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
  /** The right password, expired or to be changed at next logon (only its owner hears it). */
  'password-expired',
  'identity-mismatch',
  'attempts-in-flight',
  /** A rule asks for a second factor, which only a browser signed in at the gateway can give. */
  'needs-second-factor',
] as const;
export type PolicyReason = (typeof POLICY_REASONS)[number];

/**
 * Browser sign-in at the gateway (src/signin): its pages, the session a signed-in browser holds,
 * the second factor, and the anonymous health probes of the virtual directories.
 */
export const SIGNIN_REASONS = [
  'signin-page',
  'signin-required',
  'signed-in',
  'signed-out',
  'session-ok',
  'session-unknown',
  'session-expired',
  'csrf-failed',
  'exchange-signin-failed',
  'exchange-session-ended',
  'second-factor-required',
  'second-factor-ok',
  'second-factor-failed',
  'second-factor-replayed',
  'second-factor-unavailable',
  'health-probe',
] as const;
export type SigninReason = (typeof SIGNIN_REASONS)[number];

/** The edge: zone blocks, unpublished paths, RPC targets (exploit shapes are `exploit-shape:<id>`). */
export const EDGE_REASONS = [
  'protocol-blocked-in-zone',
  'path-not-allowed',
  'rpc-target-missing',
  'rpc-target-malformed',
  'rpc-target-not-allowed',
  /** A password posted to Exchange's forms sign-in (auth.owa): only the gateway's sign-in may. */
  'forms-signin-refused',
] as const;
export type EdgeReason = (typeof EDGE_REASONS)[number];
/** A published exploit shape (src/classify/edge-rules.ts names the ids). */
export type ExploitShapeReason = `exploit-shape:${string}`;

/** What the HTTP engine refuses (src/http): the status follows from the code (http/errors.ts). */
export const HTTP_ERROR_CODES = [
  'HEAD_TOO_LARGE',
  'TOO_MANY_HEADERS',
  'NUL_BYTE',
  'BARE_CR',
  'BARE_LF',
  'BAD_REQUEST_LINE',
  'BAD_METHOD',
  'BAD_TARGET',
  'UNSUPPORTED_VERSION',
  'BAD_STATUS_LINE',
  'BAD_HEADER_NAME',
  'WHITESPACE_BEFORE_COLON',
  'OBS_FOLD',
  'BAD_HEADER_VALUE',
  'MISSING_HOST',
  'DUPLICATE_HOST',
  'CL_AND_TE',
  'DUPLICATE_CONTENT_LENGTH',
  'BAD_CONTENT_LENGTH',
  'CONTENT_LENGTH_TOO_LARGE',
  'BAD_TRANSFER_ENCODING',
  'TE_IN_HTTP10',
  'BAD_CHUNK_SIZE',
  'BAD_CHUNK_DATA',
  'BAD_TRAILER',
  'TRAILER_TOO_LARGE',
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

/** Requests the gateway will not forward as they are (src/forward/request-checks.ts, classify). */
export const REQUEST_REASONS = [
  'BAD_HOST',
  'path-not-canonical',
  'headers-timeout',
  'connection-names-protected-field',
  'duplicate-field',
  'too-many-headers',
  'gate-error',
  // X-Forwarded-For from a trusted proxy (src/listen/forwarded-for.ts): missing or malformed, or
  // naming another client than earlier on the same connection.
  'bad-forwarded-for',
  'client-address-changed',
] as const;

/** Autodiscover: a user's protocol list and the rewrite of Exchange's answer. */
export const AUTODISCOVER_REASONS = ['protocol-not-allowed', 'autodiscover-rejected', 'autodiscover-too-large', 'autodiscover-encoding'] as const;

/** Exchange could not be reached or answered badly (src/forward/upstream-connect.ts). */
export const UPSTREAM_REASONS = [
  'upstream-connect-timeout',
  'upstream-response-timeout',
  'upstream-refused',
  'upstream-dns',
  'upstream-unreachable',
  'upstream-tls',
  'upstream-bad-response',
  'upstream-closed',
  'upstream-connect-failed',
  'upstream-reset',
] as const;
export type UpstreamReason = (typeof UPSTREAM_REASONS)[number];

/** Why the admin endpoint refused a request before any route ran (src/admin/admin-guard.ts). */
export const ADMIN_REASONS = ['request-target', 'foreign-host', 'foreign-origin', 'admin-token', 'content-type', 'not-ready'] as const;

/**
 * ActiveSync devices (src/devices): a query that does not name one device unambiguously, and the
 * device policy's refusals (a device an operator blocked, one waiting in quarantine for approval,
 * one not on the user's allow-list).
 */
export const DEVICE_REASONS = ['activesync-query-malformed', 'device-blocked', 'device-quarantined', 'device-not-allowed'] as const;
export type DeviceReason = (typeof DEVICE_REASONS)[number];

/** A refusal whose decision named no reason (never expected; kept so the type is total). */
export const FALLBACK_REASON = 'denied' as const;

export const REASON_CODES = [
  ...POLICY_REASONS,
  ...SIGNIN_REASONS,
  ...EDGE_REASONS,
  ...HTTP_ERROR_CODES,
  ...REQUEST_REASONS,
  ...AUTODISCOVER_REASONS,
  ...UPSTREAM_REASONS,
  ...ADMIN_REASONS,
  ...DEVICE_REASONS,
  FALLBACK_REASON,
] as const;

export type ReasonCode = (typeof REASON_CODES)[number] | ExploitShapeReason;

const KNOWN: ReadonlySet<string> = new Set(REASON_CODES);

/** Whether a string is a reason code (for input from outside: CLI filters, IPC). */
export function isReasonCode(s: string): s is ReasonCode {
  return KNOWN.has(s) || /^exploit-shape:[a-z0-9-]+$/.test(s);
}
