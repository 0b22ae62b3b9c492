import type { Claim } from '../vocabulary/claim.js';
import type { PasswordOutcome } from './password-checks.js';
/** A user as every stage after the directory sees it: normalised, with transitive groups. */
export interface DirectoryEntry {
  /** `DOMAIN\sam`, upper-case domain: the key for revocation, lockout and connection indexes. */
  readonly key: string;
  readonly domain: string;
  readonly sam: string;
  readonly upn: string;
  readonly mail: string;
  readonly enabled: boolean;
  /** Every group, direct or nested, by name. */
  readonly groups: readonly string[];
}

/** What a client claimed to be (from Basic, NTLM or a JWT), before the directory confirms it. */
export type { Claim } from '../vocabulary/claim.js';

export type LookupResult =
  | { readonly status: 'found'; readonly entry: DirectoryEntry }
  | { readonly status: 'unknown-domain' }
  | { readonly status: 'not-found' }
  /** The directory could not be asked and no usable cached answer exists: decisions fail closed. */
  | { readonly status: 'unavailable'; readonly reason: string };

export interface DirectoryProvider {
  readonly name: string;
  /** Accepted NetBIOS domains and UPN suffixes (lower-case). */
  readonly domains: { readonly netbios: readonly string[]; readonly upnSuffixes: readonly string[] };
  lookup(claim: Claim): Promise<LookupResult>;
  /** Checks a password with the directory (LDAP bind); providers that cannot, do not implement it. */
  verifyPassword?(entry: DirectoryEntry, password: string): Promise<PasswordOutcome>;
  /**
   * Users whose logon name, UPN or mail starts with `text` or whose name contains it (the console's
   * search; LDAP only, the console searches a file directory itself). Throws when it cannot ask.
   */
  searchUsers?(text: string, limit: number): Promise<ReadonlyArray<{ readonly key: string; readonly name: string | undefined; readonly mail: string | undefined }>>;
  /** For each of the user's groups, the nesting that gave it, where the provider can tell (the console). */
  groupChains?(key: string): Promise<string[][] | undefined>;
  /** Called after a refresh finds changed memberships (re-evaluates live connections). */
  onChange?(listener: () => void): void;
  /** Counters and pool/breaker state, for the bench and diagnostics. */
  stats?(): DirectoryStats;
  /**
   * Whether the directory answers, for /readyz: a provider without it always does (a file). `ok`
   * with a cause: unreachable, but cached answers still serve (the grace period).
   */
  health?(): { readonly ok: boolean; readonly cause?: string };
  close(): Promise<void>;
}

/** Splits a claim into the form a directory looks up; the domain check is shared by providers. */
export function claimForm(claim: Claim, domains: DirectoryProvider['domains']): { kind: 'downlevel'; domain: string; sam: string } | { kind: 'upn'; upn: string } | { kind: 'unknown-domain' } {
  if (claim.domain) {
    if (!domains.netbios.includes(claim.domain.toLowerCase())) {
      // Some clients put the DNS domain in the NTLM DomainName field.
      if (domains.upnSuffixes.includes(claim.domain.toLowerCase())) return { kind: 'downlevel', domain: domains.netbios[0]!, sam: claim.user };
      return { kind: 'unknown-domain' };
    }
    return { kind: 'downlevel', domain: claim.domain, sam: claim.user };
  }
  const at = claim.user.lastIndexOf('@');
  if (at > 0) {
    if (!domains.upnSuffixes.includes(claim.user.slice(at + 1).toLowerCase())) return { kind: 'unknown-domain' };
    return { kind: 'upn', upn: claim.user };
  }
  // A bare name: only meaningful with exactly one domain.
  if (domains.netbios.length !== 1) return { kind: 'unknown-domain' };
  return { kind: 'downlevel', domain: domains.netbios[0]!, sam: claim.user };
}

/** What a directory did so far (optional: the LDAP provider implements it, the file provider does not). */
export interface DirectoryStats {
  readonly lookups: number;
  readonly cacheHits: number;
  readonly coalesced: number;
  readonly graceServed: number;
  readonly unavailable: number;
  /** User queries sent to the directory (each is one or a few LDAP operations). */
  readonly directoryQueries: number;
  readonly backgroundRefreshes: number;
  /** Time lookups spent waiting on the directory (queue included): in all, and the longest. */
  readonly waitMs: { readonly total: number; readonly max: number };
  readonly passwordChecks: number;
  readonly passwordCacheHits: number;
  /** LDAP operations by kind (connect, startTls, bind, search) and in all. */
  readonly ldapOperations: { readonly total: number; readonly byKind: Readonly<Record<string, number>> };
  readonly cache: { readonly found: number; readonly notFound: number };
  /** Per domain controller, in order of preference: breaker state and both pools. */
  readonly domainControllers: ReadonlyArray<{
    readonly url: string;
    readonly breaker: 'closed' | 'open' | 'half-open';
    readonly breakerOpens: number;
    readonly service: { readonly open: number; readonly idle: number; readonly busy: number; readonly waiting: number; readonly opened: number; readonly peak: number };
    readonly passwords: { readonly open: number; readonly idle: number; readonly busy: number; readonly waiting: number; readonly opened: number; readonly peak: number };
  }>;
}
