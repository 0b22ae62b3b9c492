import { createHash } from 'node:crypto';
import { zodProblems } from '../config/load.js';
import { type Problem, problemAt, readYamlValue } from '../config/yaml-source.js';
import { type DirectoryFile, type DirectoryUser, directoryFileSchema } from './file-schema.js';

export type DirectoryLoad =
  | { readonly ok: true; readonly directory: FileDirectory }
  | { readonly ok: false; readonly problems: Problem[] };

/**
 * Reads and validates a directory file: schema, unknown groups, duplicate users, group cycles.
 * A file in the fast parser's subset is read without positions, which are found only to place a
 * problem (plainPositions); other files are read by the `yaml` library, positions and all. (The
 * gateway itself reads valid files with loadPackedDirectory, file-provider.ts.)
 */
export function loadDirectoryFile(file: string, text?: string): DirectoryLoad {
  const read = readYamlValue(file, text);
  if (!read.ok) return read;
  const { value, positions: src } = read;
  const parsed = directoryFileSchema.safeParse(value ?? {});
  if (!parsed.success) return { ok: false, problems: zodProblems(src(), parsed.error, directoryFileSchema, value ?? {}) };
  const data = parsed.data;
  const problems = directoryProblems(data, (at, message) => problemAt(src(), at, message));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, directory: new FileDirectory(data) };
}

/**
 * What the schema cannot check: group names defined twice, unknown groups, users defined twice,
 * users of an undeclared domain, nesting cycles. `place` positions a problem (called only when
 * there is one, so a valid file never needs positions).
 */
export function directoryProblems(data: DirectoryFile, place: (at: ReadonlyArray<PropertyKey>, message: string) => Problem): Problem[] {
  const problems: Problem[] = [];
  const groupNames = new Map<string, number>();
  data.groups.forEach((g, i) => {
    const k = g.name.toLowerCase();
    if (groupNames.has(k)) problems.push(place(['groups', i, 'name'], `group ${g.name} is defined twice`));
    groupNames.set(k, i);
  });
  data.groups.forEach((g, i) =>
    g.members.forEach((m, j) => {
      if (!groupNames.has(m.toLowerCase())) problems.push(place(['groups', i, 'members', j], `unknown group ${m}`));
    }),
  );
  const logons = new Set<string>();
  const netbios = new Set(data.domains.netbios.map((d) => d.toLowerCase()));
  data.users.forEach((u, i) => {
    const k = `${u.domain}\\${u.sAMAccountName}`.toLowerCase();
    if (logons.has(k)) problems.push(place(['users', i], `user ${u.domain}\\${u.sAMAccountName} is defined twice`));
    logons.add(k);
    if (!netbios.has(u.domain.toLowerCase())) {
      problems.push(place(['users', i, 'domain'], `domain ${u.domain} is not in domains.netbios`));
    }
    u.groups.forEach((g, j) => {
      if (!groupNames.has(g.toLowerCase())) problems.push(place(['users', i, 'groups', j], `unknown group ${g}`));
    });
  });
  for (const cycle of findCycles(data)) {
    const i = groupNames.get(cycle[0]!.toLowerCase()) ?? 0;
    problems.push(place(['groups', i, 'members'], `group nesting cycle: ${cycle.join(' -> ')}`));
  }
  return problems;
}

/** Every cycle in the "group contains group" graph, each reported once. */
function findCycles(data: DirectoryFile): string[][] {
  const members = new Map(data.groups.map((g) => [g.name.toLowerCase(), g.members.map((m) => m.toLowerCase())]));
  const names = new Map(data.groups.map((g) => [g.name.toLowerCase(), g.name]));
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (g: string): void => {
    state.set(g, 'open');
    stack.push(g);
    for (const m of members.get(g) ?? []) {
      if (state.get(m) === 'open') {
        const cyc = stack.slice(stack.indexOf(m)).concat(m);
        const key = [...cyc.slice(0, -1)].sort().join(',');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cyc.map((c) => names.get(c) ?? c));
        }
      } else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(g, 'done');
  };
  for (const g of members.keys()) if (!state.has(g)) visit(g);
  return cycles;
}

/**
 * An in-memory view of a validated directory file with the lookups the lab and tools need. The
 * gateway does not look users up here: it packs the directory (file-provider.ts), so the indexes
 * are built on first use only.
 */
export class FileDirectory {
  private indexes?: {
    readonly byLogon: Map<string, DirectoryUser>;
    readonly byUpn: Map<string, DirectoryUser>;
    readonly byAddress: Map<string, DirectoryUser>;
  };
  private groupIndex?: {
    /** group (lower-case) -> groups that directly contain it */
    readonly parents: Map<string, string[]>;
    readonly names: Map<string, string>;
  };

  constructor(readonly data: DirectoryFile) {}

  private get index(): NonNullable<FileDirectory['indexes']> {
    if (this.indexes) return this.indexes;
    const byLogon = new Map<string, DirectoryUser>();
    const byUpn = new Map<string, DirectoryUser>();
    const byAddress = new Map<string, DirectoryUser>();
    for (const u of this.data.users) {
      byLogon.set(`${u.domain}\\${u.sAMAccountName}`.toLowerCase(), u);
      byUpn.set(u.userPrincipalName.toLowerCase(), u);
      byAddress.set(u.mail.toLowerCase(), u);
      for (const p of u.proxyAddresses) byAddress.set(p.replace(/^smtp:/i, '').toLowerCase(), u);
    }
    return (this.indexes = { byLogon, byUpn, byAddress });
  }

  private get groups(): NonNullable<FileDirectory['groupIndex']> {
    if (this.groupIndex) return this.groupIndex;
    const parents = new Map<string, string[]>();
    const names = new Map<string, string>();
    for (const g of this.data.groups) {
      names.set(g.name.toLowerCase(), g.name);
      for (const m of g.members) {
        const k = m.toLowerCase();
        const list = parents.get(k);
        if (list) list.push(g.name.toLowerCase());
        else parents.set(k, [g.name.toLowerCase()]);
      }
    }
    return (this.groupIndex = { parents, names });
  }

  byDownLevel(domain: string, sam: string): DirectoryUser | undefined {
    return this.index.byLogon.get(`${domain}\\${sam}`.toLowerCase());
  }

  byUserPrincipalName(upn: string): DirectoryUser | undefined {
    return this.index.byUpn.get(upn.toLowerCase());
  }

  byMail(address: string): DirectoryUser | undefined {
    return this.index.byAddress.get(address.toLowerCase());
  }

  /** Resolves any logon form: `DOMAIN\user`, `user@upn`, or a bare name within `defaultDomain`. */
  resolveLogon(name: string, defaultDomain?: string): DirectoryUser | undefined {
    const bs = name.indexOf('\\');
    if (bs >= 0) return this.byDownLevel(name.slice(0, bs), name.slice(bs + 1));
    if (name.includes('@')) return this.byUserPrincipalName(name);
    const domain = defaultDomain ?? this.data.domains.netbios[0]!;
    return this.byDownLevel(domain, name);
  }

  /** Every group the user belongs to, directly or through nesting (names as defined). */
  groupsOf(user: DirectoryUser): string[] {
    return this.groupsThrough(user.groups);
  }

  /** The groups reached from these direct groups, breadth first (the order `policy explain` shows). */
  groupsThrough(direct: readonly string[]): string[] {
    const { parents, names } = this.groups;
    const out = new Set<string>();
    const queue = direct.map((g) => g.toLowerCase());
    for (let i = 0; i < queue.length; i++) {
      const g = queue[i]!;
      if (out.has(g)) continue;
      out.add(g);
      for (const p of parents.get(g) ?? []) queue.push(p);
    }
    return [...out].map((g) => names.get(g) ?? g);
  }
}

/** Stable mailbox GUID for a user without one (lab only): derived from the UPN. */
export function mailboxGuidOf(user: DirectoryUser): string {
  if (user.mailboxGuid) return user.mailboxGuid.toLowerCase();
  const h = createHash('sha256').update(user.userPrincipalName.toLowerCase()).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
