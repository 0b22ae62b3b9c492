// One contract for every AuditStore: the SQLite test (src/audit/sqlite-store.test.ts) and the
// PostgreSQL test (test/interop/audit-postgres.test.ts) run exactly these cases.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AuditRecord, type RecordInput, makeRecord } from '../../src/audit/audit-record.js';
import type { AuditStore } from '../../src/audit/audit-store.js';
import { LATEST_VERSION } from '../../src/audit/migrations.js';

export interface ContractSubject {
  readonly store: AuditStore;
  /** Runs raw SQL against the same database (to write rows in an older schema's shape). */
  exec(sql: string): Promise<void> | void;
}

const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);

function rec(input: Partial<RecordInput> & { ts: number }): AuditRecord {
  return makeRecord({ event: 'denied', ...input } as RecordInput);
}

export function runAuditStoreContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`AuditStore contract: ${name}`, () => {
    describe('migrations', () => {
      it('an empty database is migrated to the latest version, and again is a no-op', async () => {
        const s = await open();
        try {
          assert.equal(await s.store.schemaVersion(), 0);
          assert.equal(await s.store.migrate(), LATEST_VERSION);
          assert.equal(await s.store.migrate(), LATEST_VERSION);
          assert.equal(await s.store.schemaVersion(), LATEST_VERSION);
          await s.store.append([rec({ ts: T0, user: 'LAB\\alice' })]);
          assert.equal((await s.store.query({})).length, 1);
        } finally {
          await s.store.close();
        }
      });

      it('the previous schema is upgraded with its rows kept', async () => {
        const s = await open();
        try {
          assert.equal(await s.store.migrate(LATEST_VERSION - 1), LATEST_VERSION - 1);
          // A row as version 1 wrote it: no uid, no instance column yet.
          await s.exec(
            `INSERT INTO audit_records (ts, event, decision, user_name, client_ip, protocol, reasons, rule) VALUES (${T0}, 'denied', 'deny', 'LAB\\carol', '192.0.2.7', 'ews', 'not-in-group,default-deny', 'r1')`,
          );
          assert.equal(await s.store.migrate(), LATEST_VERSION);
          const rows = await s.store.query({ user: 'carol' });
          assert.equal(rows.length, 1);
          assert.deepEqual(
            { user: rows[0]!.user, ip: rows[0]!.clientIp, reasons: rows[0]!.reasons, uid: rows[0]!.uid },
            { user: 'LAB\\carol', ip: '192.0.2.7', reasons: ['not-in-group', 'default-deny'], uid: undefined },
          );
          // And the new schema's features work on the upgraded table.
          const r = rec({ ts: T0 + 1, user: 'LAB\\carol' });
          await s.store.append([r]);
          await s.store.append([r]);
          assert.equal((await s.store.query({ user: 'carol' })).length, 2);
        } finally {
          await s.store.close();
        }
      });
    });

    describe('records', () => {
      let s: ContractSubject;
      const all: AuditRecord[] = [
        rec({ ts: T0, event: 'denied', decision: 'deny', user: 'LAB\\carol', scheme: 'ntlm', clientIp: '192.0.2.7', clientPort: 50123, zone: 'external', listener: 'external', protocol: 'ews', method: 'POST', path: '/ews/exchange.asmx', status: 401, reasons: ['not-in-group', 'default-deny'], ref: 'a1b2c3', connection: 7 }),
        rec({ ts: T0 + 1000, event: 'identity-bound', decision: 'allow', user: 'LAB\\alice', scheme: 'ntlm', clientIp: '192.0.2.8', zone: 'external', listener: 'external', protocol: 'mapi', reasons: ['group-ok'], rule: 'outlook-remote', connection: 8 }),
        rec({ ts: T0 + 2000, event: 'connection-closed', user: 'LAB\\alice', clientIp: '192.0.2.8', protocol: 'mapi', bytesIn: 1234, bytesOut: 98765, durationMs: 4321, requests: 12, cause: 'client-closed', connection: 8 }),
        rec({ ts: T0 + 3000, event: 'revoked', user: 'LAB\\bob', actor: 'admin', text: 'left the company; 1 connection(s) closed' }),
        rec({ ts: T0 + 4000, event: 'denied', decision: 'deny', user: 'bob@lab.example', scheme: 'basic', clientIp: '2001:db8::9', protocol: 'eas', reasons: ['revoked'], deviceId: 'ApplC39GQ1', deviceType: 'iPhone' }),
        rec({ ts: T0 + 5000, event: 'denied', decision: 'deny', user: 'LAB\\x%_y', clientIp: '192.0.2.9', protocol: 'owa', reasons: ['in-group-x'] }),
      ];

      before(async () => {
        s = await open();
        await s.store.migrate();
        await s.store.append(all);
      });
      after(async () => {
        await s.store.close();
      });

      it('round-trips every field, in order, with increasing ids', async () => {
        const rows = await s.store.query({});
        assert.equal(rows.length, all.length);
        for (let i = 0; i < all.length; i++) {
          const { id, ...r } = rows[i]!;
          assert.deepEqual(r, JSON.parse(JSON.stringify(all[i])));
          if (i > 0) assert.ok(id > rows[i - 1]!.id);
        }
      });

      it('skips records already stored (retried batch, replayed spool)', async () => {
        await s.store.append(all.slice(2, 4));
        assert.equal((await s.store.query({})).length, all.length);
      });

      const cases: Array<[string, Parameters<AuditStore['query']>[0], number[]]> = [
        ['user as DOMAIN\\name', { user: 'LAB\\alice' }, [1, 2]],
        ['user by name alone, any case', { user: 'ALICE' }, [1, 2]],
        ['user by UPN or name matches both forms', { user: 'bob' }, [3, 4]],
        ['LIKE wildcards in a user are literal', { user: '%' }, []],
        ['LIKE wildcards match themselves', { user: 'x%_y' }, [5]],
        ['client IP (IPv6)', { clientIp: '2001:db8::9' }, [4]],
        ['protocol', { protocol: 'mapi' }, [1, 2]],
        ['decision deny', { decision: 'deny' }, [0, 4, 5]],
        ['decision allow', { decision: 'allow' }, [1]],
        ['one reason among several', { reason: 'default-deny' }, [0]],
        ['a reason is a whole code, not a substring', { reason: 'in-group' }, []],
        ['event', { event: 'revoked' }, [3]],
        ['ActiveSync device, any case', { device: 'applc39gq1' }, [4]],
        ['time range: since inclusive, until exclusive', { since: T0 + 1000, until: T0 + 3000 }, [1, 2]],
        ['filters combine', { user: 'alice', event: 'connection-closed' }, [2]],
      ];
      for (const [what, filter, want] of cases) {
        it(`filters: ${what}`, async () => {
          const rows = await s.store.query(filter);
          assert.deepEqual(rows.map((r) => all.findIndex((a) => a.uid === r.uid)), want);
        });
      }

      it('afterId, newest first and limit (follow and tail)', async () => {
        const rows = await s.store.query({});
        assert.deepEqual((await s.store.query({ afterId: rows[3]!.id })).map((r) => r.id), [rows[4]!.id, rows[5]!.id]);
        assert.deepEqual((await s.store.query({}, { order: 'desc', limit: 2 })).map((r) => r.id), [rows[5]!.id, rows[4]!.id]);
      });
    });

    it('a batch larger than one INSERT statement is one transaction, in order', async () => {
      const s = await open();
      try {
        await s.store.migrate();
        const batch = Array.from({ length: 1234 }, (_, i) => rec({ ts: T0 + i, connection: i }));
        await s.store.append(batch);
        const rows = await s.store.query({});
        assert.deepEqual(rows.map((r) => r.connection), batch.map((r) => r.connection));
      } finally {
        await s.store.close();
      }
    });

    it('prunes records older than the cut-off', async () => {
      const s = await open();
      try {
        await s.store.migrate();
        await s.store.append([rec({ ts: T0 }), rec({ ts: T0 + 10 }), rec({ ts: T0 + 20 })]);
        assert.equal(await s.store.prune(T0 + 10), 1);
        assert.deepEqual((await s.store.query({})).map((r) => r.ts), [T0 + 10, T0 + 20]);
      } finally {
        await s.store.close();
      }
    });
  });
}
