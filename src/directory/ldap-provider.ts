// Users and nested groups from Active Directory or OpenLDAP, shaped for a login storm:
//  - every answer is cached (lookup-cache.ts) and refreshed in the background before it expires,
//    so a user in use never waits on the directory and a warm storm costs it nothing;
//  - concurrent lookups of one user share one query (coalesce.ts);
//  - queries run on a bounded pool of bound connections per domain controller, waiting in a
//    bounded queue with a deadline, with failover and a breaker per DC (domain-controllers.ts);
//  - groups come on AD from the user's memberOf, read by the user search itself, expanded through
//    a background-refreshed group graph (group-resolvers.ts): one LDAP operation per cold login,
//    the same groups as tokenGroups, and several hundred times cheaper for the DC than the in-chain rule;
//  - "no such user" is cached briefly, "unavailable" never: the breaker stops new attempts
//    instead, cached answers serve for the grace period, and then decisions fail closed.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { Coalescer } from './coalesce.js';
import type { LdapConfig } from './directory-config.js';
import { DirectoryCounters } from './directory-stats.js';
import { DirectoryUnavailable, DomainControllers } from './domain-controllers.js';
import { type GroupResolver, InChainResolver, MemberOfResolver, TokenGroupsResolver, WalkResolver } from './group-resolvers.js';
import type { UserForm } from './ldap-filter.js';
import { LookupCache } from './lookup-cache.js';
import { type PasswordOutcome, PasswordChecks } from './password-checks.js';
import { type Claim, type DirectoryEntry, type DirectoryProvider, type DirectoryStats, type LookupResult, claimForm } from './provider.js';
import { queryUser } from './user-query.js';
import { type ListingQuery, type UserHit, findUsers, groupNames, mailboxLogons } from './ldap-listing.js';
import { type Schedule, realSchedule } from './wait-queue.js';

export { escapeFilter } from './ldap-filter.js';

export interface LdapDirectoryOptions {
  /** Groups the policy names: warned about when tokenGroups cannot see them (distribution groups, outside the base). */
  readonly policyGroups?: readonly string[];
  readonly schedule?: Schedule;
}

/** Entries nobody asked for within this long are no longer refreshed. */
const IDLE_MS = 3_600_000;
/** Cache entries looked at per turn of the event loop by the refresh sweep (about 1 ms of work). */
const SWEEP_SLICE = 1_000;
const PASSWORD_PROOF_MS = 5 * 60_000;

export class LdapDirectory implements DirectoryProvider {
  readonly name = 'ldap';
  readonly domains: DirectoryProvider['domains'];
  private readonly counters = new DirectoryCounters();
  private readonly cache: LookupCache;
  private readonly queries = new Coalescer<string, LookupResult>();
  private readonly dcs: DomainControllers;
  private readonly groups: GroupResolver;
  private readonly passwords: PasswordChecks;
  private readonly listeners: Array<() => void> = [];
  private readonly schedule: Schedule;
  private readonly sweepEveryMs: number;
  private cancelSweep: (() => void) | undefined;
  private closed = false;
  private notifyPending = false;
  private lastGraceLog = -Infinity;
  /** When a domain controller last answered a lookup (or the start): the grace period runs from here. */
  private lastAnswerAt: number;

  constructor(
    private readonly cfg: LdapConfig,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    opts: LdapDirectoryOptions = {},
  ) {
    this.lastAnswerAt = now();
    this.domains = { netbios: [cfg.netbiosDomain.toLowerCase()], upnSuffixes: cfg.upnSuffixes.map((s) => s.toLowerCase()) };
    const password = cfg.bindPassword ?? readFileSync(cfg.bindPasswordFile!, 'utf8').trim();
    const tls = { ...(cfg.ca ? { ca: readFileSync(cfg.ca) } : {}), rejectUnauthorized: !cfg.insecure };
    if (cfg.insecure) log.warn({ urls: cfg.urls }, 'LDAP TLS VERIFICATION IS DISABLED (directory.insecure)');
    this.schedule = opts.schedule ?? realSchedule;
    this.cache = new LookupCache({ ttlMs: cfg.cacheTtl, negativeTtlMs: cfg.negativeCacheTtl, graceMs: cfg.gracePeriod, refreshAhead: cfg.refreshAhead, idleMs: IDLE_MS, maxNegative: 10_000 }, now);
    this.passwords = new PasswordChecks(PASSWORD_PROOF_MS, now);
    this.dcs = new DomainControllers({
      urls: cfg.urls,
      startTls: cfg.startTls,
      tls,
      timeoutMs: cfg.timeout,
      bindDn: cfg.bindDn,
      bindPassword: password,
      checkDn: cfg.baseDn,
      pool: { size: cfg.pool.size, bindSize: cfg.pool.bindSize, acquireTimeoutMs: cfg.pool.acquireTimeout, maxWaiting: cfg.pool.maxWaiting, healthCheckMs: cfg.pool.healthCheck, idleTimeoutMs: cfg.pool.idleTimeout },
      breaker: { cooldownMs: cfg.breaker.cooldown, maxCooldownMs: cfg.breaker.maxCooldown },
      counter: this.counters,
      log,
      now,
      schedule: this.schedule,
    });
    const groupBase = cfg.groupBaseDn ?? cfg.baseDn;
    this.groups =
      cfg.groupResolution === 'member-of'
        ? new MemberOfResolver(groupBase, now, (graph) => this.warnUnseenGroups(graph, opts.policyGroups ?? []))
        : cfg.groupResolution === 'token-groups'
        ? new TokenGroupsResolver(groupBase, now, (map) => this.warnUnseenGroups(map, opts.policyGroups ?? []))
        : cfg.groupResolution === 'in-chain'
          ? new InChainResolver(groupBase)
          : new WalkResolver(groupBase);
    // Often enough that an entry in use is refreshed between refreshAhead × TTL and its expiry.
    this.sweepEveryMs = Math.min(60_000, Math.max(100, (cfg.cacheTtl * (1 - cfg.refreshAhead)) / 2));
    this.armSweep();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  async lookup(claim: Claim): Promise<LookupResult> {
    this.counters.lookups++;
    const form = claimForm(claim, this.domains);
    if (form.kind === 'unknown-domain') return { status: 'unknown-domain' };
    const key = keyOf(form);
    const cached = this.cache.read(key);
    if (cached && (cached.freshness === 'fresh' || cached.freshness === 'refresh-ahead')) {
      this.counters.cacheHits++;
      return cached.answer.result;
    }
    const t0 = this.now();
    const fresh = await this.query(key, form, false);
    const waited = this.now() - t0;
    this.counters.waitMsTotal += waited;
    this.counters.waitMsMax = Math.max(this.counters.waitMsMax, waited);
    if (fresh.status !== 'unavailable') {
      this.lastAnswerAt = this.now();
      return fresh;
    }
    if (cached?.freshness === 'stale') {
      this.counters.graceServed++;
      if (this.now() - this.lastGraceLog > 10_000) {
        this.lastGraceLog = this.now();
        this.log.warn({ reason: fresh.reason }, 'directory unreachable: serving cached answers within the grace period');
      }
      return cached.answer.result;
    }
    this.counters.unavailable++;
    return fresh;
  }

  async verifyPassword(entry: DirectoryEntry, password: string): Promise<PasswordOutcome> {
    // An empty password is an unauthenticated bind, which LDAP servers "accept": never a login.
    if (password.length === 0) return 'bad-password';
    this.counters.passwordChecks++;
    const before = this.passwords.hits;
    const dn = this.cache.dnOf(entry.key);
    if (!dn) return 'unavailable';
    const r = await this.passwords.check(entry.key, password, async () => {
      try {
        return await this.dcs.verify(dn, password);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'LDAP password check failed');
        return 'unavailable';
      }
    });
    this.counters.passwordCacheHits += this.passwords.hits - before;
    return r;
  }

  health(): { ok: boolean; cause?: string } {
    if (this.dcs.stats().some((d) => d.breaker !== 'open')) return { ok: true };
    const left = this.lastAnswerAt + this.cfg.gracePeriod - this.now();
    if (left > 0) return { ok: true, cause: `no domain controller answers; cached answers serve for ${Math.ceil(left / 1000)} s more (grace period)` };
    return { ok: false, cause: 'no domain controller answers and the grace period is over' };
  }

  /** Every mailbox user, resolved like a login (for `cas-plan`); throws when the directory cannot be asked. */
  async listUsers(): Promise<DirectoryEntry[]> {
    const logons = await this.dcs.run((c) => mailboxLogons(c, this.listing()));
    const entries: DirectoryEntry[] = [];
    const queue = [...logons];
    await Promise.all(
      Array.from({ length: Math.min(this.cfg.pool.size, queue.length) }, async () => {
        for (let sam = queue.shift(); sam !== undefined; sam = queue.shift()) {
          const r = await this.lookup({ domain: this.cfg.netbiosDomain, user: sam });
          if (r.status === 'unavailable') throw new DirectoryUnavailable(r.reason);
          if (r.status === 'found') entries.push(r.entry);
        }
      }),
    );
    return entries.sort((a, b) => a.key.localeCompare(b.key));
  }

  /** Users matching a search box's text (the console); throws when the directory cannot be asked. */
  searchUsers(text: string, limit: number): Promise<UserHit[]> {
    return this.dcs.run((c) => findUsers(c, this.listing(), this.cfg.netbiosDomain, text, limit));
  }

  /**
   * How the user got each group (member-of resolution only: the others are given flat by the
   * DC). One base read of the user, never on the serving path.
   */
  async groupChains(key: string): Promise<string[][] | undefined> {
    const resolver = this.groups;
    const dn = this.cache.dnOf(key);
    if (!(resolver instanceof MemberOfResolver) || !dn) return undefined;
    return this.dcs.run(async (c) => {
      const { searchEntries } = await c.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: [...resolver.userAttributes], explicitBufferAttributes: [...resolver.userBufferAttributes] });
      const e = searchEntries[0];
      return e ? resolver.chains(c, { dn, attributes: e }) : undefined;
    });
  }

  /** Every group name under the group base (for `config check`). */
  groupNames(): Promise<string[]> {
    return this.dcs.run((c) => groupNames(c, this.listing()));
  }

  private listing(): ListingQuery {
    return { baseDn: this.cfg.baseDn, groupBaseDn: this.cfg.groupBaseDn ?? this.cfg.baseDn, userFilter: this.cfg.userFilter, ad: this.cfg.flavor === 'ad' };
  }

  stats(): DirectoryStats {
    const c = this.counters;
    return {
      lookups: c.lookups,
      cacheHits: c.cacheHits,
      coalesced: this.queries.joined,
      graceServed: c.graceServed,
      unavailable: c.unavailable,
      directoryQueries: c.directoryQueries,
      backgroundRefreshes: c.backgroundRefreshes,
      waitMs: { total: c.waitMsTotal, max: c.waitMsMax },
      passwordChecks: c.passwordChecks,
      passwordCacheHits: c.passwordCacheHits,
      ldapOperations: { total: c.ldapOperations, byKind: { ...c.ops } },
      cache: this.cache.sizes,
      domainControllers: this.dcs.stats(),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelSweep?.();
    this.dcs.close();
  }

  /** One query per user at a time, shared by every lookup (and refresh) that wants it. */
  private query(key: string, form: UserForm, background: boolean): Promise<LookupResult> {
    return this.queries.run(key, async () => {
      this.counters.directoryQueries++;
      if (background) this.counters.backgroundRefreshes++;
      try {
        const r = await this.dcs.run((c) => queryUser(c, form, { baseDn: this.cfg.baseDn, userFilter: this.cfg.userFilter, ad: this.cfg.flavor === 'ad', netbiosDomain: this.cfg.netbiosDomain, groups: this.groups }));
        if (this.cache.store(key, r.answer, r.dn)) this.changed();
        return r.answer;
      } catch (e) {
        const reason = e instanceof DirectoryUnavailable ? e.message : `LDAP ${this.cfg.urls.join(', ')}: ${(e as Error).message}`;
        if (!(e instanceof DirectoryUnavailable)) this.log.warn({ reason }, 'directory lookup failed');
        return { status: 'unavailable', reason };
      }
    });
  }

  /** Live connections are judged again once, however many answers changed at the same moment. */
  private changed(): void {
    if (this.notifyPending) return;
    this.notifyPending = true;
    this.schedule(() => {
      this.notifyPending = false;
      for (const l of this.listeners) l();
    }, 0);
  }

  private armSweep(): void {
    if (this.closed) return;
    this.cancelSweep = this.schedule(() => {
      void this.sweep().finally(() => this.armSweep());
    }, this.sweepEveryMs);
  }

  /** Refresh-ahead: entries in use are queried again before they expire, a few at a time. */
  private async sweep(): Promise<void> {
    this.passwords.sweep();
    const refreshAt = this.cfg.cacheTtl * this.cfg.refreshAhead;
    await this.groups.refresh?.((task) => this.dcs.run(task), refreshAt).catch(() => {});
    const due = await this.cache.sweepInSlices(SWEEP_SLICE, () => new Promise<void>((r) => setImmediate(r)));
    // Background work leaves most of the pool to the lookups of users who are waiting.
    const workers = Math.max(1, Math.floor(this.cfg.pool.size / 2));
    await Promise.all(
      Array.from({ length: Math.min(workers, due.length) }, async () => {
        for (let key = due.shift(); key !== undefined && !this.closed; key = due.shift()) await this.query(key, formOfKey(key, this.cfg.netbiosDomain), true);
      }),
    );
  }

  private warnUnseenGroups(map: { byName(name: string): { readonly security: boolean } | undefined }, names: readonly string[]): void {
    for (const name of names) {
      const g = map.byName(name);
      if (!g) this.log.warn({ group: name, groupBaseDn: this.cfg.groupBaseDn ?? this.cfg.baseDn }, 'a group the policy names is not under groupBaseDn: no user will be found in it');
      else if (!g.security) this.log.warn({ group: name }, 'a group the policy names is a distribution group: a Windows token carries security groups only (make it a security group, or set groupResolution: in-chain)');
    }
  }
}

function keyOf(form: UserForm): string {
  return form.kind === 'upn' ? `upn:${form.upn.toLowerCase()}` : `sam:${form.sam.toLowerCase()}`;
}

function formOfKey(key: string, domain: string): UserForm {
  return key.startsWith('upn:') ? { kind: 'upn', upn: key.slice(4) } : { kind: 'downlevel', domain, sam: key.slice(4) };
}
