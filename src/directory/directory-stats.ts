// Counters of what the LDAP directory did, read through LdapDirectory.stats() (the bench's login
// storm reports "LDAP operations caused" from them; tests assert on them).

/** healthCheck: the base read of an idle pooled connection (healthCheck), not a lookup's. */
export type OpKind = 'connect' | 'startTls' | 'bind' | 'search' | 'healthCheck';

export interface OpCounter {
  count(kind: OpKind): void;
}

export class DirectoryCounters implements OpCounter {
  lookups = 0;
  cacheHits = 0;
  /** Lookups answered by another lookup's query of the same user already in flight. */
  coalesced = 0;
  /** Answers served past their TTL because the directory could not be reached (grace period). */
  graceServed = 0;
  unavailable = 0;
  /** User queries that went to the directory, foreground and background. */
  directoryQueries = 0;
  backgroundRefreshes = 0;
  /** Time lookups spent waiting for the directory (queue and queries), in all and the longest. */
  waitMsTotal = 0;
  waitMsMax = 0;
  passwordChecks = 0;
  passwordCacheHits = 0;
  readonly ops: Record<string, number> = { connect: 0, startTls: 0, bind: 0, search: 0, healthCheck: 0 };

  count(kind: OpKind): void {
    this.ops[kind] = (this.ops[kind] ?? 0) + 1;
  }

  get ldapOperations(): number {
    return Object.values(this.ops).reduce((a, b) => a + b, 0);
  }
}
