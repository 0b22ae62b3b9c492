import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LdapSession } from './ldap-connection.js';
import { GroupGraph, primaryGroupSid } from './group-graph.js';
import { sidFromString } from './sid.js';

const BASE = 'OU=Groups,DC=lab,DC=example';
const DOMAIN = 'S-1-5-21-1-2-3';
const SECURITY = String(-2147483646); // global security group
const DISTRIBUTION = '2';

interface G {
  dn: string;
  cn: string;
  rid: number;
  type?: string;
  memberOf?: string[];
}

/** A directory of groups answering the three searches the graph makes; counts them. */
function fakeDc(groups: G[]): { session: LdapSession; searches: string[] } {
  const searches: string[] = [];
  const entry = (g: G) => ({ dn: g.dn, cn: g.cn, groupType: g.type ?? SECURITY, objectSid: sidFromString(`${DOMAIN}-${g.rid}`)!, ...(g.memberOf ? { memberOf: g.memberOf.length === 1 ? g.memberOf[0] : g.memberOf } : {}) });
  const session = {
    async search(base: string, o: { scope?: string; filter?: string | object }) {
      const filter = String(o.filter);
      searches.push(`${o.scope} ${base} ${filter}`);
      if (o.scope === 'base') {
        const g = groups.find((x) => x.dn.toLowerCase() === base.toLowerCase());
        if (!g) throw Object.assign(new Error('no such object'), { code: 32 });
        return { searchEntries: [entry(g)], searchReferences: [] };
      }
      const sid = /objectSid=([^)]+)/.exec(filter)?.[1];
      const inBase = groups.filter((g) => g.dn.toLowerCase().endsWith(BASE.toLowerCase()));
      return { searchEntries: (sid ? inBase.filter((g) => `${DOMAIN}-${g.rid}` === sid) : inBase).map(entry), searchReferences: [] };
    },
  } as unknown as LdapSession;
  return { session, searches };
}

const dn = (cn: string, ou = BASE) => `CN=${cn},${ou}`;

describe('GroupGraph: nested groups from memberOf', () => {
  const groups: G[] = [
    { dn: dn('Domain Users'), cn: 'Domain Users', rid: 513 },
    { dn: dn('Sales'), cn: 'Sales', rid: 1101, memberOf: [dn('Outlook-Remote')] },
    { dn: dn('Outlook-Remote'), cn: 'Outlook-Remote', rid: 1102 },
    { dn: dn('Newsletter'), cn: 'Newsletter', rid: 1103, type: DISTRIBUTION, memberOf: [dn('Hidden-Behind-Distribution')] },
    { dn: dn('Hidden-Behind-Distribution'), cn: 'Hidden-Behind-Distribution', rid: 1104 },
    { dn: dn('Loop-A'), cn: 'Loop-A', rid: 1105, memberOf: [dn('Loop-B')] },
    { dn: dn('Loop-B'), cn: 'Loop-B', rid: 1106, memberOf: [dn('Loop-A')] },
    // Outside the group base, but on the way to a group inside it.
    { dn: dn('Bridge', 'OU=Elsewhere,DC=lab,DC=example'), cn: 'Bridge', rid: 1107, memberOf: [dn('Outlook-Remote')] },
  ];

  it('expands through security groups at any depth, with the primary group; distribution groups neither count nor lead anywhere', async () => {
    const { session } = fakeDc(groups);
    const g = new GroupGraph(BASE, () => 0);
    await g.load(session);
    assert.deepEqual(await g.names(session, [dn('Sales'), dn('Newsletter')], `${DOMAIN}-513`), ['Domain Users', 'Outlook-Remote', 'Sales']);
  });

  it('chains: for each group names() gives, the shortest nesting from a direct membership', async () => {
    const { session } = fakeDc(groups);
    const g = new GroupGraph(BASE, () => 0);
    await g.load(session);
    const chains = await g.chains(session, [dn('Sales'), dn('Newsletter'), dn('Loop-A')], `${DOMAIN}-513`);
    assert.deepEqual(chains, [['Sales'], ['Loop-A'], ['Domain Users'], ['Sales', 'Outlook-Remote'], ['Loop-A', 'Loop-B']]);
    assert.deepEqual(chains.map((c) => c.at(-1)).sort(), await g.names(session, [dn('Sales'), dn('Newsletter'), dn('Loop-A')], `${DOMAIN}-513`), 'the same groups as names()');
  });

  it('survives membership loops and names only groups under the base, yet follows a group outside it', async () => {
    const { session, searches } = fakeDc(groups);
    const g = new GroupGraph(BASE, () => 0);
    await g.load(session);
    assert.deepEqual(await g.names(session, [dn('Loop-A')], undefined), ['Loop-A', 'Loop-B']);
    assert.deepEqual(await g.names(session, [dn('Bridge', 'OU=Elsewhere,DC=lab,DC=example')], undefined), ['Outlook-Remote']);
    assert.equal(searches.filter((s) => s.startsWith('base')).length, 1, 'the group outside the base was read once');
    await g.names(session, [dn('Bridge', 'OU=Elsewhere,DC=lab,DC=example')], undefined);
    assert.equal(searches.filter((s) => s.startsWith('base')).length, 1, 'and then known');
  });

  it('reads a group created after the load once, and remembers a DN that is no group until the next load', async () => {
    const { session, searches } = fakeDc(groups);
    const g = new GroupGraph(BASE, () => 0);
    await g.load(session);
    groups.push({ dn: dn('Created-Later'), cn: 'Created-Later', rid: 1200, memberOf: [dn('Sales')] });
    assert.deepEqual(await g.names(session, [dn('Created-Later'), dn('Gone')], undefined), ['Created-Later', 'Outlook-Remote', 'Sales']);
    const reads = searches.filter((s) => s.startsWith('base')).length;
    assert.equal(reads, 2);
    await g.names(session, [dn('Created-Later'), dn('Gone')], undefined);
    assert.equal(searches.filter((s) => s.startsWith('base')).length, reads, 'neither is asked again');
    groups.pop();
  });

  it('finds a primary group it does not know by SID, once', async () => {
    const { session, searches } = fakeDc(groups);
    const g = new GroupGraph(BASE, () => 0);
    groups.push({ dn: dn('Staff'), cn: 'Staff', rid: 1300, memberOf: [dn('Outlook-Remote')] });
    await g.load(session);
    groups.pop();
    await g.load(session); // Staff gone from the graph; the user still carries it as primary group
    groups.push({ dn: dn('Staff'), cn: 'Staff', rid: 1300, memberOf: [dn('Outlook-Remote')] });
    assert.deepEqual(await g.names(session, [], `${DOMAIN}-1300`), ['Outlook-Remote', 'Staff']);
    assert.equal(searches.filter((s) => s.includes('objectSid=')).length, 1);
    groups.pop();
    assert.deepEqual(await g.names(session, [], `${DOMAIN}-9999`), []);
    assert.deepEqual(await g.names(session, [], `${DOMAIN}-9999`), []);
    assert.equal(searches.filter((s) => s.includes('objectSid=')).length, 2, 'an unknown primary group is asked once');
  });

  it('byName knows groups under the base and whether they are security groups', async () => {
    const { session } = fakeDc(groups);
    const g = new GroupGraph(BASE, () => 0);
    await g.load(session);
    assert.equal(g.byName('outlook-remote')?.security, true);
    assert.equal(g.byName('Newsletter')?.security, false);
    assert.equal(g.byName('Bridge'), undefined);
  });
});

describe('primaryGroupSid', () => {
  it("is the user's domain SID with primaryGroupID as the last part", () => {
    assert.equal(primaryGroupSid(sidFromString(`${DOMAIN}-1105`), '513'), `${DOMAIN}-513`);
  });
  it('is nothing for a missing or malformed SID or ID', () => {
    assert.equal(primaryGroupSid(undefined, '513'), undefined);
    assert.equal(primaryGroupSid(Buffer.from([1, 2, 3]), '513'), undefined);
    assert.equal(primaryGroupSid(sidFromString(`${DOMAIN}-1105`), ''), undefined);
    assert.equal(primaryGroupSid(sidFromString(`${DOMAIN}-1105`), '5 13'), undefined);
  });
});
