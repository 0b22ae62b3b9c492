// A user's groups, nested at any depth, four ways. Measured on Samba 4.17 with the storm's 2,000
// users (bench/storm-group-costs.ts, docs/benchmarks.md): the in-chain rule costs the DC about
// 280 ms of CPU per user, tokenGroups under 1 ms, which is why AD uses tokenGroups by default.
//  - member-of (AD, the default): the user's memberOf and primaryGroupID, read by the user search
//    itself, expanded through a background-refreshed graph of the groups under the base
//    (group-graph.ts): the same groups as tokenGroups, one LDAP operation per login instead of two.
//  - token-groups (AD): one base read of the user's tokenGroups, names from the SID map. Exactly
//    the security groups Windows puts in the user's token: nesting at any depth and the primary
//    group included; distribution groups never appear.
//  - in-chain (AD): the LDAP_MATCHING_RULE_IN_CHAIN search over the group base, per user.
//  - walk (OpenLDAP, which has no in-chain rule): groupOfNames membership walked upwards.
import { Coalescer } from './coalesce.js';
import { escapeFilter } from './ldap-filter.js';
import type { LdapSession } from './ldap-connection.js';
import { GroupSidMap, buffers } from './group-sid-map.js';
import { GroupGraph, primaryGroupSid } from './group-graph.js';

const IN_CHAIN = '1.2.840.113556.1.4.1941';

/** The user as the user search found it: its DN and the attributes it was asked for. */
export interface FoundUser {
  readonly dn: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface GroupResolver {
  /** Attributes the user search must also return for this resolver (read in the same operation). */
  readonly userAttributes?: readonly string[];
  /** Of those, the binary ones. */
  readonly userBufferAttributes?: readonly string[];
  /** The user's groups by name, sorted. */
  groups(c: LdapSession, user: FoundUser): Promise<string[]>;
  /** Background upkeep (the SID map) once older than `maxAgeMs`; `run` borrows a pooled connection. */
  refresh?(run: <T>(task: (c: LdapSession) => Promise<T>) => Promise<T>, maxAgeMs: number): Promise<void>;
}

const names = (entries: ReadonlyArray<Record<string, unknown>>) => [...new Set(entries.map((g) => String(Array.isArray(g['cn']) ? g['cn'][0] : g['cn'])))].sort();

/** A catalogue of the groups under the base, read in one search and replaced on each load. */
interface GroupCatalogue {
  readonly age: number;
  load(c: LdapSession): Promise<void>;
}

/** Loads its catalogue before the first user and again in the background once older than maxAgeMs. */
abstract class CatalogueResolver<M extends GroupCatalogue> implements GroupResolver {
  private readonly loads = new Coalescer<'load', void>();

  protected constructor(
    protected readonly catalogue: M,
    private readonly onLoaded: (catalogue: M) => void,
  ) {}

  abstract groups(c: LdapSession, user: FoundUser): Promise<string[]>;

  async refresh(run: <T>(task: (c: LdapSession) => Promise<T>) => Promise<T>, maxAgeMs: number): Promise<void> {
    if (this.catalogue.age < maxAgeMs) return;
    await run((c) => this.load(c));
  }

  protected load(c: LdapSession): Promise<void> {
    const first = this.catalogue.age === Infinity;
    return this.loads.run('load', async () => {
      await this.catalogue.load(c);
      if (first) this.onLoaded(this.catalogue);
    });
  }
}

export class TokenGroupsResolver extends CatalogueResolver<GroupSidMap> {
  constructor(groupBase: string, now: () => number, onLoaded: (map: GroupSidMap) => void = () => {}) {
    super(new GroupSidMap(groupBase, now), onLoaded);
  }

  get map(): GroupSidMap {
    return this.catalogue;
  }

  async groups(c: LdapSession, user: FoundUser): Promise<string[]> {
    if (this.map.age === Infinity) await this.load(c);
    const { searchEntries } = await c.search(user.dn, { scope: 'base', filter: '(objectClass=*)', attributes: ['tokenGroups'], explicitBufferAttributes: ['tokenGroups'] });
    return this.map.names(c, buffers(searchEntries[0]?.['tokenGroups']));
  }
}

export class MemberOfResolver extends CatalogueResolver<GroupGraph> {
  readonly userAttributes = ['memberOf', 'primaryGroupID', 'objectSid'] as const;
  readonly userBufferAttributes = ['objectSid'] as const;

  constructor(groupBase: string, now: () => number, onLoaded: (graph: GroupGraph) => void = () => {}) {
    super(new GroupGraph(groupBase, now), onLoaded);
  }

  get graph(): GroupGraph {
    return this.catalogue;
  }

  async groups(c: LdapSession, user: FoundUser): Promise<string[]> {
    if (this.graph.age === Infinity) await this.load(c);
    const a = user.attributes;
    const memberOf = a['memberOf'] === undefined ? [] : (Array.isArray(a['memberOf']) ? a['memberOf'] : [a['memberOf']]).map(String);
    const primary = primaryGroupSid(buffers(a['objectSid'])[0], String(Array.isArray(a['primaryGroupID']) ? (a['primaryGroupID'][0] ?? '') : (a['primaryGroupID'] ?? '')));
    return this.graph.names(c, memberOf, primary);
  }

  /** The same walk as `groups`, keeping the chain that reached each group (for the console). */
  async chains(c: LdapSession, user: FoundUser): Promise<string[][]> {
    if (this.graph.age === Infinity) await this.load(c);
    const a = user.attributes;
    const memberOf = a['memberOf'] === undefined ? [] : (Array.isArray(a['memberOf']) ? a['memberOf'] : [a['memberOf']]).map(String);
    const primary = primaryGroupSid(buffers(a['objectSid'])[0], String(Array.isArray(a['primaryGroupID']) ? (a['primaryGroupID'][0] ?? '') : (a['primaryGroupID'] ?? '')));
    return this.graph.chains(c, memberOf, primary);
  }
}

export class InChainResolver implements GroupResolver {
  constructor(private readonly groupBase: string) {}

  async groups(c: LdapSession, user: FoundUser): Promise<string[]> {
    const { searchEntries } = await c.search(this.groupBase, { scope: 'sub', filter: `(&(objectClass=group)(member:${IN_CHAIN}:=${escapeFilter(user.dn)}))`, attributes: ['cn'] });
    return names(searchEntries);
  }
}

export class WalkResolver implements GroupResolver {
  constructor(private readonly groupBase: string) {}

  /** Breadth first, one search per level, cycles ignored, at most 32 levels. */
  async groups(c: LdapSession, user: FoundUser): Promise<string[]> {
    const found: Array<Record<string, unknown>> = [];
    const seen = new Set<string>([user.dn.toLowerCase()]);
    let frontier = [user.dn];
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
