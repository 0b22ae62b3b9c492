// The domain controllers, in order of preference, each with a pool of bound service connections,
// a small pool of connections used only to check passwords, and a circuit breaker. A query runs
// on the first DC whose breaker is closed; when that DC fails (connect, bind, time-out, busy), the
// breaker opens, the lookups waiting for it move on to the next DC, and a background probe
// decides when it may serve again. With every breaker open, queries fail at once: the lookup
// cache answers within its grace period, and the gateway fails closed after it.
import type { Logger } from 'pino';
import { InvalidCredentialsError } from 'ldapts';
import { Breaker } from './breaker.js';
import { ConnectionPool } from './connection-pool.js';
import type { OpCounter } from './directory-stats.js';
import { type Endpoint, LdapConnection, type LdapSession, isServerFailure } from './ldap-connection.js';
import type { DirectoryStats } from './provider.js';
import { DeadlineError, QueueFullError, type Schedule, realSchedule } from './wait-queue.js';

/** No domain controller could answer: the caller fails closed (or serves a cached answer within the grace period). */
export class DirectoryUnavailable extends Error {}

/** Rejects the lookups waiting for a DC whose breaker just opened, so they go elsewhere at once. */
class DcDown extends Error {}

export interface DcOptions {
  readonly urls: readonly string[];
  readonly startTls: boolean;
  readonly tls: Endpoint['tls'];
  readonly timeoutMs: number;
  readonly bindDn: string;
  readonly bindPassword: string;
  /** Read (base scope, no attributes) to prove an idle service connection still works and is bound. */
  readonly checkDn: string;
  readonly pool: { readonly size: number; readonly bindSize: number; readonly acquireTimeoutMs: number; readonly maxWaiting: number; readonly healthCheckMs: number; readonly idleTimeoutMs: number };
  readonly breaker: { readonly cooldownMs: number; readonly maxCooldownMs: number };
  readonly counter: OpCounter;
  readonly log: Logger;
  readonly now?: () => number;
  readonly schedule?: Schedule;
  /** Opens a connection (bound when `bind` is given); tests pass fakes. */
  readonly connect?: (ep: Endpoint, bind?: { dn: string; password: string }) => Promise<LdapSession>;
}

interface Dc {
  readonly url: string;
  readonly ep: Endpoint;
  readonly breaker: Breaker;
  readonly service: ConnectionPool<LdapSession>;
  readonly passwords: ConnectionPool<LdapSession>;
  cancelProbe: (() => void) | undefined;
  /** Why it was last marked down: what "directory unavailable" tells an admin while the breaker is open. */
  lastFailure?: string;
}

export class DomainControllers {
  private readonly dcs: Dc[];
  private readonly now: () => number;
  private readonly schedule: Schedule;
  private readonly connect: NonNullable<DcOptions['connect']>;
  private closed = false;

  constructor(private readonly o: DcOptions) {
    this.now = o.now ?? Date.now;
    this.schedule = o.schedule ?? realSchedule;
    this.connect = o.connect ?? ((ep, bind) => LdapConnection.open(ep, o.counter, bind));
    const service = { dn: o.bindDn, password: o.bindPassword };
    this.dcs = o.urls.map((url) => {
      const ep: Endpoint = { url, startTls: o.startTls, tls: o.tls, timeoutMs: o.timeoutMs };
      const common = { maxWaiting: o.pool.maxWaiting, healthCheckMs: o.pool.healthCheckMs, idleTimeoutMs: o.pool.idleTimeoutMs, now: this.now, schedule: this.schedule };
      return {
        url,
        ep,
        breaker: new Breaker(o.breaker, this.now),
        service: new ConnectionPool<LdapSession>({ ...common, size: o.pool.size, open: () => this.connect(ep, service), check: (c) => this.checkService(c) }),
        passwords: new ConnectionPool<LdapSession>({ ...common, size: o.pool.bindSize, open: () => this.connect(ep), check: (c) => this.checkAnonymous(c) }),
        cancelProbe: undefined,
      };
    });
  }

  /** A connection from one of this DC's pools, or why none could be had (a DC failure is recorded). */
  private async acquire(dc: Dc, pool: ConnectionPool<LdapSession>, deadline: number): Promise<LdapSession | string> {
    try {
      return await pool.acquire(deadline);
    } catch (e) {
      if (!(e instanceof QueueFullError || e instanceof DeadlineError || e instanceof DcDown)) this.failed(dc, e as Error);
      return `LDAP ${dc.url}: ${(e as Error).message}`;
    }
  }

  /** Runs `task` on a bound service connection of the first healthy DC, failing over on server failures. */
  async run<T>(task: (c: LdapSession) => Promise<T>): Promise<T> {
    const deadline = this.now() + this.o.pool.acquireTimeoutMs;
    let last: string | undefined;
    for (const dc of this.dcs) {
      if (!dc.breaker.allowsRequests) continue;
      const c = await this.acquire(dc, dc.service, deadline);
      if (typeof c === 'string') {
        last = c;
        continue;
      }
      try {
        const r = await task(c);
        dc.service.release(c, true);
        return r;
      } catch (e) {
        if (!isServerFailure(e)) {
          dc.service.release(c, true);
          throw e;
        }
        dc.service.release(c, false);
        last = `LDAP ${dc.url}: ${(e as Error).message}`;
        this.failed(dc, e as Error);
      }
    }
    throw new DirectoryUnavailable(last ?? this.allDown());
  }

  /** Checks a password by binding as the user on a password-check connection, never a service one. */
  async verify(dn: string, password: string): Promise<'ok' | 'bad-password' | 'expired'> {
    const deadline = this.now() + this.o.pool.acquireTimeoutMs;
    let last: string | undefined;
    for (const dc of this.dcs) {
      if (!dc.breaker.allowsRequests) continue;
      const c = await this.acquire(dc, dc.passwords, deadline);
      if (typeof c === 'string') {
        last = c;
        continue;
      }
      let outcome: 'ok' | 'bad-password' | 'expired';
      try {
        await c.bind(dn, password);
        outcome = 'ok';
      } catch (e) {
        if (!(e instanceof InvalidCredentialsError)) {
          dc.passwords.release(c, false);
          if (isServerFailure(e)) this.failed(dc, e as Error);
          // Not retried on the next DC: the bind may have reached this one, and a wrong password
          // tried twice would count twice against the account's lockout in AD.
          throw new DirectoryUnavailable(`LDAP ${dc.url}: ${(e as Error).message}`);
        }
        // AD names why in the message: data 532 (password expired) and 773 (must change at next
        // logon) are said only when the password is right; everything else is a wrong password.
        outcome = /\bdata (532|773)\b/.test((e as Error).message) ? 'expired' : 'bad-password';
      }
      void this.resetAndRelease(dc, c);
      return outcome;
    }
    throw new DirectoryUnavailable(last ?? this.allDown());
  }

  stats(): DirectoryStats['domainControllers'] {
    return this.dcs.map((dc) => ({ url: dc.url, breaker: dc.breaker.state, breakerOpens: dc.breaker.opens, service: dc.service.stats(), passwords: dc.passwords.stats() }));
  }

  close(): void {
    this.closed = true;
    for (const dc of this.dcs) {
      dc.cancelProbe?.();
      dc.service.close();
      dc.passwords.close();
    }
  }

  /** A connection that just bound as a user goes back anonymous before anyone else may use it. */
  private async resetAndRelease(dc: Dc, c: LdapSession): Promise<void> {
    try {
      await c.bind('', '');
      dc.passwords.release(c, true);
    } catch {
      dc.passwords.release(c, false);
    }
  }

  private checkService(c: LdapSession): Promise<void> {
    return c.check(this.o.checkDn);
  }

  private checkAnonymous(c: LdapSession): Promise<void> {
    return c.check('');
  }

  private allDown(): string {
    const next = Math.min(...this.dcs.map((d) => d.breaker.retryInMs));
    const why = [...new Set(this.dcs.map((d) => d.lastFailure).filter((f) => f !== undefined))].join('; ');
    return `LDAP ${this.dcs.map((d) => d.url).join(', ')}: marked down after a failure${why ? ` (${why})` : ''}; next probe in ${next} ms`;
  }

  private failed(dc: Dc, e: Error): void {
    if (dc.breaker.state !== 'closed') return;
    dc.lastFailure = e.message;
    dc.breaker.failure();
    this.o.log.warn({ url: dc.url, err: e.message, retryInMs: dc.breaker.retryInMs }, 'domain controller failed: no new attempts until a probe succeeds');
    const down = new DcDown(`${dc.url} is marked down`);
    dc.service.failWaiters(down);
    dc.passwords.failWaiters(down);
    dc.service.drainIdle();
    dc.passwords.drainIdle();
    this.scheduleProbe(dc);
  }

  private scheduleProbe(dc: Dc): void {
    if (this.closed) return;
    dc.cancelProbe?.();
    dc.cancelProbe = this.schedule(() => void this.probe(dc), dc.breaker.retryInMs);
  }

  /** Half-open: one connect + bind + read decides whether the DC serves again. */
  private async probe(dc: Dc): Promise<void> {
    dc.cancelProbe = undefined;
    if (this.closed) return;
    if (!dc.breaker.startProbe()) {
      // A timer may fire a millisecond before the clock says the cooldown is over: try again then.
      if (dc.breaker.state === 'open') this.scheduleProbe(dc);
      return;
    }
    let c: LdapSession | undefined;
    try {
      c = await this.connect(dc.ep, { dn: this.o.bindDn, password: this.o.bindPassword });
      await this.checkService(c);
    } catch (e) {
      c?.destroy();
      dc.breaker.failure();
      this.o.log.debug({ url: dc.url, err: (e as Error).message, retryInMs: dc.breaker.retryInMs }, 'domain controller probe failed');
      this.scheduleProbe(dc);
      return;
    }
    dc.breaker.success();
    this.o.log.info({ url: dc.url }, 'domain controller answers again');
    dc.service.adopt(c);
  }
}
