// Names of the groups a tokenGroups answer refers to, by SID. tokenGroups gives SIDs only; asking
// the DC for each group's name per user would undo the saving, so the SIDs of every group under
// the group base are read in one paged search (about 8 ms of Samba CPU for the storm's groups) and
// refreshed in the background with the user cache. A SID not in the map (a group created since)
// is looked up once, at the moment a user carries it; SIDs outside the group base (BUILTIN\Users
// and the like) are remembered as such until the next refresh.
import type { LdapSession } from './ldap-connection.js';
import { sidToString } from './sid.js';

const SECURITY_ENABLED = 0x80000000;

export interface GroupInfo {
  readonly name: string;
  readonly security: boolean;
}

/** A multi-valued binary attribute as Buffers (ldapts gives one value bare). */
export function buffers(v: unknown): Buffer[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is Buffer => Buffer.isBuffer(x));
}

const first = (v: unknown): string => String(Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));

export class GroupSidMap {
  private bySid = new Map<string, GroupInfo>();
  private outside = new Set<string>();
  private loadedAt = -Infinity;

  constructor(
    private readonly groupBase: string,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.bySid.size;
  }

  /** Milliseconds since the last complete load (Infinity before the first). */
  get age(): number {
    return this.now() - this.loadedAt;
  }

  /** Every group under the base; replaces the map in one step. */
  async load(c: LdapSession): Promise<void> {
    const { searchEntries } = await c.search(this.groupBase, { scope: 'sub', filter: '(objectClass=group)', attributes: ['objectSid', 'cn', 'groupType'], explicitBufferAttributes: ['objectSid'], paged: { pageSize: 500 } });
    const next = new Map<string, GroupInfo>();
    for (const g of searchEntries) this.add(next, g);
    this.bySid = next;
    this.outside = new Set();
    this.loadedAt = this.now();
  }

  /** Group names for a user's tokenGroups (sorted); unknown SIDs are resolved on `c` first. */
  async names(c: LdapSession, tokenGroups: readonly Buffer[]): Promise<string[]> {
    const sids = tokenGroups.map((b) => sidToString(b)).filter((s): s is string => s !== undefined);
    const unknown = sids.filter((s) => !this.bySid.has(s) && !this.outside.has(s));
    if (unknown.length > 0) {
      // AD and Samba match objectSid against the string form; ldapts would re-encode an escaped
      // binary value as UTF-8 and match nothing.
      const filter = `(&(objectClass=group)(|${unknown.map((s) => `(objectSid=${s})`).join('')}))`;
      const { searchEntries } = await c.search(this.groupBase, { scope: 'sub', filter, attributes: ['objectSid', 'cn', 'groupType'], explicitBufferAttributes: ['objectSid'] });
      for (const g of searchEntries) this.add(this.bySid, g);
      for (const s of unknown) if (!this.bySid.has(s)) this.outside.add(s);
    }
    const names = new Set<string>();
    for (const s of sids) {
      const g = this.bySid.get(s);
      if (g) names.add(g.name);
    }
    return [...names].sort();
  }

  /** What the map knows about a group by name (distribution groups never appear in tokenGroups). */
  byName(name: string): GroupInfo | undefined {
    const n = name.toLowerCase();
    for (const g of this.bySid.values()) if (g.name.toLowerCase() === n) return g;
    return undefined;
  }

  private add(into: Map<string, GroupInfo>, g: Record<string, unknown>): void {
    const sid = buffers(g['objectSid'])[0];
    const s = sid ? sidToString(sid) : undefined;
    if (!s) return;
    into.set(s, { name: first(g['cn']), security: (Number(first(g['groupType'])) & SECURITY_ENABLED) !== 0 });
  }
}
