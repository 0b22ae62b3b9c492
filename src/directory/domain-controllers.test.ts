import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidCredentialsError, NoSuchObjectError, type SearchResult } from 'ldapts';
import pino from 'pino';
import { DirectoryCounters } from './directory-stats.js';
import { DirectoryUnavailable, DomainControllers } from './domain-controllers.js';
import type { Endpoint, LdapSession } from './ldap-connection.js';
import { ManualClock, settle } from './manual-clock.js';

/** A fake domain controller: up or down, counting connections, binds and searches. */
class FakeDc {
  up = true;
  /** User binds (not the service's) lose the connection. */
  dropUserBinds = false;
  connects = 0;
  readonly binds: string[] = [];
  searches = 0;
  readonly open = new Set<FakeSession>();
}

class FakeSession implements LdapSession {
  usable = true;
  constructor(private readonly dc: FakeDc) {}
  async bind(dn: string, password: string): Promise<void> {
    await settle();
    if (!this.dc.up || (this.dc.dropUserBinds && dn !== 'svc' && dn !== '')) throw this.lost();
    this.dc.binds.push(dn);
    if (password !== 'right' && dn !== '') throw new InvalidCredentialsError('49');
  }
  async search(): Promise<SearchResult> {
    await settle();
    if (!this.dc.up) throw this.lost();
    this.dc.searches++;
    return { searchEntries: [], searchReferences: [] };
  }
  async check(): Promise<void> {
    await this.search();
  }
  destroy(): void {
    this.usable = false;
    this.dc.open.delete(this);
  }
  private lost(): Error {
    this.destroy();
    return new Error('Connection closed before message response was received');
  }
}

function make(urls: string[], over: { size?: number; cooldownMs?: number; clock?: ManualClock } = {}) {
  const clock = over.clock ?? new ManualClock();
  const dcs = new Map(urls.map((u) => [u, new FakeDc()]));
  const d = new DomainControllers({
    urls,
    startTls: false,
    tls: { rejectUnauthorized: true },
    timeoutMs: 1000,
    bindDn: 'svc',
    bindPassword: 'right',
    checkDn: 'DC=lab',
    pool: { size: over.size ?? 2, bindSize: 1, acquireTimeoutMs: 5000, maxWaiting: 100, healthCheckMs: 0, idleTimeoutMs: 0 },
    breaker: { cooldownMs: over.cooldownMs ?? 1000, maxCooldownMs: 4000 },
    counter: new DirectoryCounters(),
    log: pino({ level: 'silent' }),
    now: clock.now,
    schedule: clock.schedule,
    connect: async (ep: Endpoint, bind) => {
      const dc = dcs.get(ep.url)!;
      dc.connects++;
      await settle();
      if (!dc.up) throw new Error('connect ECONNREFUSED');
      const s = new FakeSession(dc);
      dc.open.add(s);
      if (bind) await s.bind(bind.dn, bind.password);
      return s;
    },
  });
  return { d, dcs, clock, dc: (u: string) => dcs.get(u)! };
}

const search = (c: LdapSession) => c.search('x', {});

describe('domain controllers: pool, breaker, failover', () => {
  it('the first healthy DC serves; a dead first DC costs at most pool.size attempts, then the second serves', async () => {
    const { d, dc } = make(['ldaps://dc1', 'ldaps://dc2']);
    dc('ldaps://dc1').up = false;
    await Promise.all(Array.from({ length: 30 }, () => d.run(search)));
    assert.ok(dc('ldaps://dc1').connects <= 2, `attempts on the dead DC: ${dc('ldaps://dc1').connects}`);
    assert.equal(dc('ldaps://dc2').searches, 30);
    assert.equal(dc('ldaps://dc2').connects, 2, 'bounded by pool.size');
    assert.equal(d.stats()[0]!.breaker, 'open');
    assert.equal(d.stats()[1]!.breaker, 'closed');
    await Promise.all(Array.from({ length: 30 }, () => d.run(search)));
    assert.ok(dc('ldaps://dc1').connects <= 2, 'no attempt while the breaker is open');
    d.close();
  });

  it('with every DC down, queries fail at once without touching the network', async () => {
    const { d, dc } = make(['ldaps://dc1']);
    dc('ldaps://dc1').up = false;
    await assert.rejects(d.run(search), DirectoryUnavailable);
    const before = dc('ldaps://dc1').connects;
    const errors = await Promise.allSettled(Array.from({ length: 50 }, () => d.run(search)));
    assert.ok(errors.every((e) => e.status === 'rejected' && e.reason instanceof DirectoryUnavailable && /marked down/.test((e.reason as Error).message)));
    assert.equal(dc('ldaps://dc1').connects, before);
    d.close();
  });

  it('a background probe brings a DC back, even when its timer fires a millisecond early', async () => {
    const clock = new ManualClock();
    // Timers that run a millisecond before the clock reaches their time, as Node's may.
    const early = { now: clock.now, schedule: (fn: () => void, ms: number) => clock.schedule(fn, ms > 1 ? ms - 1 : ms) } as unknown as ManualClock;
    const { d, dc } = make(['ldaps://dc1'], { clock: early, cooldownMs: 1000 });
    dc('ldaps://dc1').up = false;
    await assert.rejects(d.run(search), DirectoryUnavailable);
    await clock.advance(1000);
    assert.equal(d.stats()[0]!.breaker, 'open', 'still down: the probe failed');
    dc('ldaps://dc1').up = true;
    await clock.advance(5000);
    for (let i = 0; i < 5; i++) await settle(); // the probe's connect, bind and read
    assert.equal(d.stats()[0]!.breaker, 'closed', 'the probe found it back');
    await d.run(search);
    d.close();
  });

  it('a DC failing mid-query: the query moves to the next DC, the broken connection is not re-used', async () => {
    const { d, dc } = make(['ldaps://dc1', 'ldaps://dc2']);
    await d.run(search);
    dc('ldaps://dc1').up = false;
    await d.run(search);
    assert.equal(dc('ldaps://dc2').searches, 1);
    assert.equal(dc('ldaps://dc1').open.size, 0);
    d.close();
  });

  it('an LDAP answer (no such object) is the caller\'s, not a DC failure', async () => {
    const { d } = make(['ldaps://dc1', 'ldaps://dc2']);
    await assert.rejects(d.run(async () => Promise.reject(new NoSuchObjectError('32'))), NoSuchObjectError);
    assert.equal(d.stats()[0]!.breaker, 'closed');
    d.close();
  });

  it('passwords are checked on their own connections, which go back to anonymous before re-use', async () => {
    const { d, dc } = make(['ldaps://dc1']);
    await d.run(search);
    const dc1 = dc('ldaps://dc1');
    assert.equal(await d.verify('CN=bob', 'right'), 'ok');
    assert.equal(await d.verify('CN=bob', 'wrong'), 'bad-password');
    await settle();
    assert.deepEqual(dc1.binds, ['svc', 'CN=bob', '', 'CN=bob', ''], 'service bind once; each user bind followed by an anonymous one');
    assert.equal(d.stats()[0]!.service.opened, 1);
    assert.equal(d.stats()[0]!.passwords.opened, 1, 'one password connection, re-used');
    d.close();
  });

  it('a password bind the DC may have seen is not tried again on the next DC (AD lockout counts)', async () => {
    const { d, dc } = make(['ldaps://dc1', 'ldaps://dc2']);
    dc('ldaps://dc1').dropUserBinds = true;
    await assert.rejects(d.verify('CN=bob', 'wrong'), DirectoryUnavailable);
    assert.deepEqual(dc('ldaps://dc2').binds, [], 'never sent to dc2');
    assert.equal(d.stats()[0]!.breaker, 'open');
    assert.equal(await d.verify('CN=bob', 'right'), 'ok', 'the next check goes to dc2');
    assert.deepEqual(dc('ldaps://dc2').binds, ['CN=bob']);
    d.close();
  });
});
