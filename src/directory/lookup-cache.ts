// The answers the directory gave, and how old they may be. Found users are trusted for cacheTtl
// and refreshed in the background from refreshAhead × cacheTtl on while they are in use, so a busy
// user never waits on the directory; "no such user" is remembered for negativeCacheTtl only, and
// is never refreshed (a spray of made-up names must not become background load). Past their TTL,
// answers still serve during the grace period, but only when the directory cannot be reached.
// Pure: the clock is injected.
import type { LookupResult } from './provider.js';

export type Answer = Extract<LookupResult, { status: 'found' } | { status: 'not-found' }>;

export interface CacheTimes {
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  readonly graceMs: number;
  /** Fraction of ttlMs after which an entry in use is due for a background refresh. */
  readonly refreshAhead: number;
  /** Entries not asked for this long are no longer refreshed, and dropped once expired. */
  readonly idleMs: number;
  /** Most "no such user" answers kept (oldest dropped first). */
  readonly maxNegative: number;
}

export interface CachedAnswer {
  readonly result: Answer;
  readonly at: number;
  /** The user's DN (found answers), for password checks and base reads. */
  readonly dn: string | undefined;
  lastUsed: number;
}

/** fresh: serve; refresh-ahead: serve and refresh in the background; stale: serve only if the directory is unreachable; expired: never serve. */
export type Freshness = 'fresh' | 'refresh-ahead' | 'stale' | 'expired';

export class LookupCache {
  private readonly found = new Map<string, CachedAnswer>();
  /** Insertion order is age order: a re-stored key is deleted first. */
  private readonly missing = new Map<string, CachedAnswer>();
  private readonly dnByUser = new Map<string, string>();

  constructor(
    private readonly t: CacheTimes,
    private readonly now: () => number = Date.now,
  ) {}

  get sizes(): { found: number; notFound: number } {
    return { found: this.found.size, notFound: this.missing.size };
  }

  freshness(a: CachedAnswer): Freshness {
    return this.freshnessAt(a, this.now());
  }

  private freshnessAt(a: CachedAnswer, now: number): Freshness {
    const age = now - a.at;
    const ttl = a.result.status === 'found' ? this.t.ttlMs : this.t.negativeTtlMs;
    if (age >= ttl + this.t.graceMs) return 'expired';
    if (age >= ttl) return 'stale';
    if (a.result.status === 'found' && age >= ttl * this.t.refreshAhead) return 'refresh-ahead';
    return 'fresh';
  }

  /** The cached answer for a lookup key (marks it used), with how it may be served. */
  read(key: string): { answer: CachedAnswer; freshness: Freshness } | undefined {
    const a = this.found.get(key) ?? this.missing.get(key);
    if (!a) return undefined;
    a.lastUsed = this.now();
    return { answer: a, freshness: this.freshness(a) };
  }

  /**
   * Stores a fresh answer. Returns true when it replaced a different answer about a user who was
   * found before: then live connections of that user must be judged again.
   */
  store(key: string, result: Answer, dn: string | undefined): boolean {
    const now = this.now();
    const before = this.found.get(key) ?? this.missing.get(key);
    const a: CachedAnswer = { result, at: now, dn, lastUsed: before?.lastUsed ?? now };
    this.found.delete(key);
    this.missing.delete(key);
    if (result.status === 'found') {
      this.found.set(key, a);
      if (dn) this.dnByUser.set(result.entry.key, dn);
    } else {
      this.missing.set(key, a);
      while (this.missing.size > this.t.maxNegative) this.missing.delete(this.missing.keys().next().value!);
    }
    return before?.result.status === 'found' && JSON.stringify(before.result) !== JSON.stringify(result);
  }

  /** The DN of a user found earlier (by DirectoryEntry.key). */
  dnOf(userKey: string): string | undefined {
    return this.dnByUser.get(userKey);
  }

  /**
   * Keys of found entries in use that are due for a background refresh (oldest first: the map's
   * order is store order, and a re-stored key is deleted first); drops entries nobody asked for
   * within idleMs once they expire, and expired "no such user" answers.
   */
  sweep(): string[] {
    const steps = this.sweepSteps(Infinity);
    for (let s = steps.next(); ; s = steps.next()) if (s.done) return s.value;
  }

  /**
   * sweep() a slice of `batch` entries at a time, awaiting `pause` between slices: over 50,000
   * cached users one pass holds the event loop for tens of milliseconds (bench/ldap-cache.ts),
   * which every connection the process serves would wait for.
   */
  async sweepInSlices(batch: number, pause: () => Promise<void>): Promise<string[]> {
    const steps = this.sweepSteps(batch);
    for (let s = steps.next(); ; s = steps.next()) {
      if (s.done) return s.value;
      await pause();
    }
  }

  /** The sweep, yielding after every `batch` entries; entries stored or dropped meanwhile are fine (Map iteration allows it). */
  private *sweepSteps(batch: number): Generator<void, string[]> {
    let now = this.now();
    let n = 0;
    const due: string[] = [];
    for (const [key, a] of this.found) {
      if (++n % batch === 0) {
        yield;
        now = this.now();
      }
      const f = this.freshnessAt(a, now);
      const idle = now - a.lastUsed > this.t.idleMs;
      if (idle && f === 'expired') {
        this.found.delete(key);
        if (a.result.status === 'found' && this.dnByUser.get(a.result.entry.key) === a.dn) this.dnByUser.delete(a.result.entry.key);
      } else if (!idle && f !== 'fresh') {
        due.push(key);
      }
    }
    for (const [key, a] of this.missing) {
      if (this.freshnessAt(a, now) !== 'expired') break; // age order: the rest are younger
      this.missing.delete(key);
    }
    return due;
  }
}
