// Every group under the group base with the groups it is a member of: read in one paged search
// and refreshed in the background, so that a user's nested groups follow from the user's own
// memberOf and primaryGroupID, which the user search returns in the same operation. A cold login
// then costs the DC one search instead of two (the user search plus a tokenGroups read).
//
// The result is what tokenGroups gives for the groups under the base: security groups only,
// expanded through security groups only, at any depth, with the primary group (Domain Users).
// A group the graph does not know yet (created since the last load, or outside the base but on
// the way to one inside it) is read once, the moment a user's membership reaches it.
import type { LdapSession } from './ldap-connection.js';
import { buffers } from './group-sid-map.js';
import { sidToString } from './sid.js';

const SECURITY_ENABLED = 0x80000000;
/** Nesting deeper than this is a loop the cycle check missed, or not a directory anyone runs. */
const MAX_DEPTH = 64;

export interface GraphGroup {
  readonly name: string;
  readonly security: boolean;
  /** Lower-cased DNs of the groups this one is a direct member of. */
  readonly parents: readonly string[];
  /** Under the group base: only these are named in a user's groups. */
  readonly inBase: boolean;
}

const first = (v: unknown): string => String(Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));
const many = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));

/** The SID of a user's primary group: the user's domain SID with primaryGroupID as the last part. */
export function primaryGroupSid(userSid: Buffer | undefined, primaryGroupId: string): string | undefined {
  const sid = userSid ? sidToString(userSid) : undefined;
  if (!sid || !/^\d+$/.test(primaryGroupId)) return undefined;
  return `${sid.slice(0, sid.lastIndexOf('-'))}-${primaryGroupId}`;
}

export class GroupGraph {
  private byDn = new Map<string, GraphGroup>();
  private dnBySid = new Map<string, string>();
  /** DNs and SIDs asked about since the last load that are no group: not asked again until then. */
  private missing = new Set<string>();
  private loadedAt = -Infinity;
  private readonly base: string;

  constructor(
    private readonly groupBase: string,
    private readonly now: () => number = Date.now,
  ) {
    this.base = groupBase.toLowerCase().replace(/\s*,\s*/g, ',');
  }

  get size(): number {
    return this.byDn.size;
  }

  /** Milliseconds since the last complete load (Infinity before the first). */
  get age(): number {
    return this.now() - this.loadedAt;
  }

  /** Every group under the base; replaces the graph in one step. */
  async load(c: LdapSession): Promise<void> {
    const { searchEntries } = await c.search(this.groupBase, { scope: 'sub', filter: '(objectClass=group)', attributes: ['objectSid', 'cn', 'groupType', 'memberOf'], explicitBufferAttributes: ['objectSid'], paged: { pageSize: 500 } });
    const byDn = new Map<string, GraphGroup>();
    const dnBySid = new Map<string, string>();
    for (const g of searchEntries) this.add(byDn, dnBySid, g);
    this.byDn = byDn;
    this.dnBySid = dnBySid;
    this.missing = new Set();
    this.loadedAt = this.now();
  }

  /**
   * The names (sorted) of the security groups under the base that a user with these direct
   * memberships is in, at any depth; groups the graph does not know are read on `c` first.
   */
  async names(c: LdapSession, memberOf: readonly string[], primarySid: string | undefined): Promise<string[]> {
    let frontier = memberOf.map((d) => d.toLowerCase());
    if (primarySid) {
      const dn = this.dnBySid.get(primarySid) ?? (await this.readSid(c, primarySid));
      if (dn) frontier.push(dn);
    }
    const seen = new Set<string>();
    const found = new Set<string>();
    for (let depth = 0; depth < MAX_DEPTH && frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const dn of frontier) {
        if (seen.has(dn)) continue;
        seen.add(dn);
        const g = this.byDn.get(dn) ?? (await this.readDn(c, dn));
        // Windows' token expansion follows security groups only; distribution groups never count.
        if (!g?.security) continue;
        if (g.inBase) found.add(g.name);
        next.push(...g.parents);
      }
      frontier = next;
    }
    return [...found].sort();
  }

  /**
   * For each group `names` gives, the shortest chain of security groups from a direct membership
   * to it (`Sales → Outlook-Remote`): the console shows why a user is in a group.
   */
  async chains(c: LdapSession, memberOf: readonly string[], primarySid: string | undefined): Promise<string[][]> {
    const starts = memberOf.map((d) => d.toLowerCase());
    if (primarySid) {
      const dn = this.dnBySid.get(primarySid) ?? (await this.readSid(c, primarySid));
      if (dn) starts.push(dn);
    }
    const out: string[][] = [];
    const seen = new Set<string>();
    const queue: Array<{ dn: string; path: string[] }> = starts.map((dn) => ({ dn, path: [] }));
    while (queue.length > 0) {
      const { dn, path } = queue.shift()!;
      if (seen.has(dn) || path.length >= MAX_DEPTH) continue;
      seen.add(dn);
      const g = this.byDn.get(dn) ?? (await this.readDn(c, dn));
      if (!g?.security) continue;
      const chain = [...path, g.name];
      if (g.inBase) out.push(chain);
      for (const p of g.parents) queue.push({ dn: p, path: chain });
    }
    return out;
  }

  /** What the graph knows about a group by name (for the warnings about the policy's groups). */
  byName(name: string): { readonly name: string; readonly security: boolean } | undefined {
    const n = name.toLowerCase();
    for (const g of this.byDn.values()) if (g.inBase && g.name.toLowerCase() === n) return g;
    return undefined;
  }

  private async readDn(c: LdapSession, dn: string): Promise<GraphGroup | undefined> {
    if (this.missing.has(dn)) return undefined;
    const { searchEntries } = await c
      .search(dn, { scope: 'base', filter: '(objectClass=group)', attributes: ['objectSid', 'cn', 'groupType', 'memberOf'], explicitBufferAttributes: ['objectSid'] })
      .catch((e: unknown) => {
        // A DN that no longer exists (noSuchObject, 32) is no group; anything else is the DC's trouble.
        if ((e as { code?: number }).code === 32) return { searchEntries: [] };
        throw e;
      });
    const g = searchEntries[0];
    if (!g) {
      this.missing.add(dn);
      return undefined;
    }
    return this.add(this.byDn, this.dnBySid, g);
  }

  private async readSid(c: LdapSession, sid: string): Promise<string | undefined> {
    if (this.missing.has(sid)) return undefined;
    // AD and Samba match objectSid against the string form (see group-sid-map.ts).
    const { searchEntries } = await c.search(this.groupBase, { scope: 'sub', filter: `(&(objectClass=group)(objectSid=${sid}))`, attributes: ['objectSid', 'cn', 'groupType', 'memberOf'], explicitBufferAttributes: ['objectSid'] });
    const g = searchEntries[0];
    if (!g) {
      this.missing.add(sid);
      return undefined;
    }
    this.add(this.byDn, this.dnBySid, g);
    return g.dn.toLowerCase();
  }

  private add(byDn: Map<string, GraphGroup>, dnBySid: Map<string, string>, g: { dn: string } & Record<string, unknown>): GraphGroup {
    const dn = g.dn.toLowerCase();
    const normal = dn.replace(/\s*,\s*/g, ',');
    const group: GraphGroup = {
      name: first(g['cn']),
      security: (Number(first(g['groupType'])) & SECURITY_ENABLED) !== 0,
      parents: many(g['memberOf']).map((p) => p.toLowerCase()),
      inBase: normal === this.base || normal.endsWith(`,${this.base}`),
    };
    byDn.set(dn, group);
    const sid = buffers(g['objectSid'])[0];
    const s = sid ? sidToString(sid) : undefined;
    if (s) dnBySid.set(s, dn);
    return group;
  }
}
