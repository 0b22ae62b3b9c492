// A user's groups, nested at any depth, three ways. Measured on Samba 4.17 with the storm's 2,000
// users (bench/storm-group-costs.ts, docs/benchmarks.md): the in-chain rule costs the DC about
// 280 ms of CPU per user, tokenGroups under 1 ms, which is why AD uses tokenGroups by default.
//  - token-groups (AD): one base read of the user's tokenGroups, names from the SID map. Exactly
//    the security groups Windows puts in the user's token: nesting at any depth and the primary
//    group included; distribution groups never appear.
//  - in-chain (AD): the LDAP_MATCHING_RULE_IN_CHAIN search over the group base, per user.
//  - walk (OpenLDAP, which has no in-chain rule): groupOfNames membership walked upwards.
import { Coalescer } from './coalesce.js';
import { escapeFilter } from './ldap-filter.js';
import type { LdapSession } from './ldap-connection.js';
import { GroupSidMap, buffers } from './group-sid-map.js';

const IN_CHAIN = '1.2.840.113556.1.4.1941';

export interface GroupResolver {
  /** The user's groups by name, sorted. */
  groups(c: LdapSession, userDn: string): Promise<string[]>;
  /** Background upkeep (the SID map) once older than `maxAgeMs`; `run` borrows a pooled connection. */
  refresh?(run: <T>(task: (c: LdapSession) => Promise<T>) => Promise<T>, maxAgeMs: number): Promise<void>;
}

const names = (entries: ReadonlyArray<Record<string, unknown>>) => [...new Set(entries.map((g) => String(Array.isArray(g['cn']) ? g['cn'][0] : g['cn'])))].sort();

export class TokenGroupsResolver implements GroupResolver {
  readonly map: GroupSidMap;
  private readonly loads = new Coalescer<'load', void>();

  constructor(groupBase: string, now: () => number, private readonly onLoaded: (map: GroupSidMap) => void = () => {}) {
    this.map = new GroupSidMap(groupBase, now);
  }

  async groups(c: LdapSession, userDn: string): Promise<string[]> {
    if (this.map.age === Infinity) await this.load(c);
    const { searchEntries } = await c.search(userDn, { scope: 'base', filter: '(objectClass=*)', attributes: ['tokenGroups'], explicitBufferAttributes: ['tokenGroups'] });
    return this.map.names(c, buffers(searchEntries[0]?.['tokenGroups']));
  }

  async refresh(run: <T>(task: (c: LdapSession) => Promise<T>) => Promise<T>, maxAgeMs: number): Promise<void> {
    if (this.map.age < maxAgeMs) return;
    await run((c) => this.load(c));
  }

  private load(c: LdapSession): Promise<void> {
    const first = this.map.age === Infinity;
    return this.loads.run('load', async () => {
      await this.map.load(c);
      if (first) this.onLoaded(this.map);
    });
  }
}

export class InChainResolver implements GroupResolver {
  constructor(private readonly groupBase: string) {}

  async groups(c: LdapSession, userDn: string): Promise<string[]> {
    const { searchEntries } = await c.search(this.groupBase, { scope: 'sub', filter: `(&(objectClass=group)(member:${IN_CHAIN}:=${escapeFilter(userDn)}))`, attributes: ['cn'] });
    return names(searchEntries);
  }
}

export class WalkResolver implements GroupResolver {
  constructor(private readonly groupBase: string) {}

  /** Breadth first, one search per level, cycles ignored, at most 32 levels. */
  async groups(c: LdapSession, userDn: string): Promise<string[]> {
    const found: Array<Record<string, unknown>> = [];
    const seen = new Set<string>([userDn.toLowerCase()]);
    let frontier = [userDn];
    for (let depth = 0; depth < 32 && frontier.length > 0; depth++) {
      const filter = `(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))(|${frontier.map((d) => `(member=${escapeFilter(d)})(uniqueMember=${escapeFilter(d)})`).join('')}))`;
      const { searchEntries } = await c.search(this.groupBase, { scope: 'sub', filter, attributes: ['cn'] });
      frontier = [];
      for (const g of searchEntries) {
        if (seen.has(g.dn.toLowerCase())) continue;
        seen.add(g.dn.toLowerCase());
        found.push(g);
        frontier.push(g.dn);
      }
    }
    return names(found);
  }
}
