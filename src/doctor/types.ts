export type Status = 'pass' | 'warn' | 'fail' | 'skip' | 'info';

/** A problem the doctor names: its stable id points into docs/doctor.md (cause and fix). */
export interface Finding {
  readonly id: string;
  readonly detail: string;
}

export interface CheckResult {
  readonly group: string;
  readonly title: string;
  readonly status: Status;
  /** What was seen: status lines, headers, certificate names, timings. */
  readonly evidence: readonly string[];
  readonly findings: readonly Finding[];
  readonly ms: number;
}

export interface DoctorOptions {
  readonly url: string;
  readonly email?: string;
  readonly user?: string;
  readonly password?: string;
  readonly protocols: readonly string[];
  /** DNS server as IP or IP:port. */
  readonly resolver?: string;
  /** Exchange itself, to compare certificates (Extended Protection needs the same one). */
  readonly upstream?: string;
  /** Extra CA file to trust (private PKI). */
  readonly ca?: string;
  readonly timeoutMs: number;
  /** RPC server name (mailboxGuid@domain) for the Outlook Anywhere checks when Autodiscover cannot tell. */
  readonly rpcServer?: string;
  /** Hold long-lived channels up to the protocols' keep-alive intervals (minutes) instead of the quick hold. */
  readonly long?: boolean;
  /** How long the quick mode holds an idle channel (default 20 s); tests shorten it. */
  readonly idleHoldMs?: number;
}

const ORDER: Record<Status, number> = { pass: 0, info: 0, skip: 1, warn: 2, fail: 3 };

export function worst(statuses: readonly Status[]): Status {
  return statuses.reduce<Status>((a, s) => (ORDER[s] > ORDER[a] ? s : a), 'pass');
}
