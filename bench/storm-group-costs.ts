// What each way of finding a user's groups costs the domain controller: CPU time of Samba's
// processes (from /proc) per operation, measured on one bound LDAPS connection against the storm
// population (users in Storm-NN groups nested into Outlook-Remote). Feeds the group-resolution
// table in docs/benchmarks.md and the choice made in src/directory/group-resolvers.ts.
//   node --import tsx bench/storm-group-costs.ts DC_DIR        (a DC provisioned by samba-dc.sh)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'ldapts';
import { escapeFilter } from '../src/directory/ldap-filter.js';
import { sidToString } from '../src/directory/sid.js';
import { cpuTree } from './measure.js';
import { stormUser } from '../scripts/storm-users.js';

const BASE = 'CN=Users,DC=lab,DC=example';
const IN_CHAIN = '1.2.840.113556.1.4.1941';

export interface GroupCost {
  readonly method: string;
  /** LDAP operations one user costs with this method (amortised for background methods). */
  readonly opsPerUser: string;
  /** DC CPU per unit, in ms. */
  readonly dcMs: number;
  readonly unit: string;
  readonly samples: number;
}

const userDn = (i: number) => `CN=${stormUser(i)},${BASE}`;

async function bound(dcDir: string): Promise<Client> {
  const c = new Client({ url: 'ldaps://127.0.0.1:636', tlsOptions: { ca: readFileSync(path.join(dcDir, 'tls/dc.crt')) }, timeout: 60_000 });
  await c.bind('svc-gateway@lab.example', 'Svc-Passw0rd!');
  return c;
}

/** DC CPU in ms per call of `fn`, over `n` calls (CPU ticks are 10 ms: n must be large enough). */
async function dcCpu(pid: number, n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  await fn(0); // warm the DC's caches for this kind of query
  const c0 = cpuTree(pid);
  for (let i = 0; i < n; i++) await fn(i + 1);
  return ((cpuTree(pid) - c0) * 1000) / n;
}

export async function measureGroupCosts(dcDir: string, users: number, quick = false): Promise<GroupCost[]> {
  const pid = Number(readFileSync(path.join(dcDir, 'samba.pid'), 'utf8'));
  const c = await bound(dcDir);
  const k = (n: number) => (quick ? Math.max(5, Math.floor(n / 5)) : n);
  const u = (i: number) => i % users;
  const rows: GroupCost[] = [];
  try {
    rows.push({
      method: 'new LDAPS connection + service bind (no pool)',
      opsPerUser: '1 connect + 1 bind',
      dcMs: await dcCpu(pid, k(100), async () => {
        const x = await bound(dcDir);
        await x.unbind();
      }),
      unit: 'connection',
      samples: k(100),
    });
    rows.push({
      method: 'user search (sAMAccountName, subtree)',
      opsPerUser: '1 search',
      dcMs: await dcCpu(pid, k(1000), (i) => c.search(BASE, { scope: 'sub', filter: `(&(objectClass=person)(sAMAccountName=${escapeFilter(stormUser(u(i)))}))`, attributes: ['sAMAccountName', 'userPrincipalName', 'mail', 'userAccountControl'], sizeLimit: 2 })),
      unit: 'user',
      samples: k(1000),
    });
    rows.push({
      method: 'user search with memberOf, primaryGroupID, objectSid (member-of: the whole cold login)',
      opsPerUser: '1 search',
      dcMs: await dcCpu(pid, k(1000), (i) => c.search(BASE, { scope: 'sub', filter: `(&(objectClass=person)(sAMAccountName=${escapeFilter(stormUser(u(i)))}))`, attributes: ['sAMAccountName', 'userPrincipalName', 'mail', 'userAccountControl', 'memberOf', 'primaryGroupID', 'objectSid'], explicitBufferAttributes: ['objectSid'], sizeLimit: 2 })),
      unit: 'user',
      samples: k(1000),
    });
    rows.push({
      method: 'tokenGroups (base read of the user object)',
      opsPerUser: '1 search (base)',
      dcMs: await dcCpu(pid, k(1000), (i) => c.search(userDn(u(i)), { scope: 'base', filter: '(objectClass=*)', attributes: ['tokenGroups'], explicitBufferAttributes: ['tokenGroups'] })),
      unit: 'user',
      samples: k(1000),
    });
    rows.push({
      method: 'memberOf walk (user, then each group level)',
      opsPerUser: '3 searches (base) here: user, Storm-NN, Outlook-Remote',
      dcMs: await dcCpu(pid, k(500), async (i) => {
        let frontier = [userDn(u(i))];
        const seen = new Set<string>();
        while (frontier.length) {
          const next: string[] = [];
          for (const dn of frontier) {
            const { searchEntries } = await c.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: ['memberOf'] });
            const m = searchEntries[0]?.['memberOf'];
            for (const g of m === undefined ? [] : Array.isArray(m) ? m : [m]) {
              if (!seen.has(String(g))) (seen.add(String(g)), next.push(String(g)));
            }
          }
          frontier = next;
        }
      }),
      unit: 'user',
      samples: k(500),
    });
    rows.push({
      method: 'in-chain rule per user (member:1.2.840.113556.1.4.1941:=user, subtree)',
      opsPerUser: '1 search (subtree)',
      dcMs: await dcCpu(pid, k(20), (i) => c.search(BASE, { scope: 'sub', filter: `(&(objectClass=group)(member:${IN_CHAIN}:=${escapeFilter(userDn(u(i * 97)))}))`, attributes: ['cn'] })),
      unit: 'user',
      samples: k(20),
    });
    rows.push({
      method: 'bulk: transitive members of Outlook-Remote (in-chain, all users at once)',
      opsPerUser: `1 search per refresh, shared by ${users} users`,
      dcMs: await dcCpu(pid, k(10), () => c.search(BASE, { scope: 'sub', filter: `(&(objectClass=person)(memberOf:${IN_CHAIN}:=CN=Outlook-Remote,${BASE}))`, attributes: ['1.1'], paged: { pageSize: 1000 } })),
      unit: 'refresh of one named group',
      samples: k(10),
    });
    rows.push({
      method: 'group graph: every group under the base (objectSid, cn, groupType, memberOf), paged',
      opsPerUser: '1 search per refresh, shared by all users',
      dcMs: await dcCpu(pid, k(50), () => c.search(BASE, { scope: 'sub', filter: '(objectClass=group)', attributes: ['objectSid', 'cn', 'groupType', 'memberOf'], explicitBufferAttributes: ['objectSid'], paged: { pageSize: 500 } })),
      unit: 'refresh',
      samples: k(50),
    });
    rows.push({
      method: 'SID map: every group under the base (objectSid, cn), paged',
      opsPerUser: '1 search per refresh, shared by all users',
      dcMs: await dcCpu(pid, k(50), () => c.search(BASE, { scope: 'sub', filter: '(objectClass=group)', attributes: ['objectSid', 'cn', 'groupType'], explicitBufferAttributes: ['objectSid'], paged: { pageSize: 500 } })),
      unit: 'refresh',
      samples: k(50),
    });
  } finally {
    await c.unbind().catch(() => {});
  }
  return rows;
}

/** One user's groups by tokenGroups, as SIDs (a check that the attribute works on this DC). */
export async function tokenGroupsOf(dcDir: string, dn: string): Promise<string[]> {
  const c = await bound(dcDir);
  try {
    const { searchEntries } = await c.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: ['tokenGroups'], explicitBufferAttributes: ['tokenGroups'] });
    const v = searchEntries[0]?.['tokenGroups'];
    return (v === undefined ? [] : Array.isArray(v) ? v : [v]).map((b) => sidToString(b as Buffer) ?? '?');
  } finally {
    await c.unbind().catch(() => {});
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const dir = process.argv[2] ?? '/tmp/pcbench-dc';
  console.log(await tokenGroupsOf(dir, userDn(0)));
  for (const r of await measureGroupCosts(dir, Number(process.argv[3] ?? 2000), process.argv.includes('--quick'))) console.log(`${r.dcMs.toFixed(2)} ms / ${r.unit}  ${r.method}  (${r.opsPerUser}; n=${r.samples})`);
}
