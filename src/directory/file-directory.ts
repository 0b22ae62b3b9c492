import { createHash } from 'node:crypto';
import { zodProblems } from '../config/load.js';
import { type Problem, problemAt, readYaml } from '../config/yaml-source.js';
import { type DirectoryFile, type DirectoryUser, directoryFileSchema } from './file-schema.js';

export type DirectoryLoad =
  | { readonly ok: true; readonly directory: FileDirectory }
  | { readonly ok: false; readonly problems: Problem[] };

/** Reads and validates a directory file: schema, unknown groups, duplicate users, group cycles. */
export function loadDirectoryFile(file: string, text?: string): DirectoryLoad {
  let src;
  try {
    src = readYaml(file, text);
  } catch (e) {
    return { ok: false, problems: [{ file, line: 0, column: 0, path: '', message: (e as Error).message }] };
  }
  if (src.syntaxProblems.length > 0) return { ok: false, problems: src.syntaxProblems };
  const parsed = directoryFileSchema.safeParse(src.doc.toJS() ?? {});
  if (!parsed.success) return { ok: false, problems: zodProblems(src, parsed.error) };
  const data = parsed.data;
  const problems: Problem[] = [];
  const groupNames = new Map<string, number>();
  data.groups.forEach((g, i) => {
    const k = g.name.toLowerCase();
    if (groupNames.has(k)) problems.push(problemAt(src, ['groups', i, 'name'], `group ${g.name} is defined twice`));
    groupNames.set(k, i);
  });
  data.groups.forEach((g, i) =>
    g.members.forEach((m, j) => {
      if (!groupNames.has(m.toLowerCase())) problems.push(problemAt(src, ['groups', i, 'members', j], `unknown group ${m}`));
    }),
  );
  const logons = new Set<string>();
  data.users.forEach((u, i) => {
    const k = `${u.domain}\\${u.sAMAccountName}`.toLowerCase();
    if (logons.has(k)) problems.push(problemAt(src, ['users', i], `user ${u.domain}\\${u.sAMAccountName} is defined twice`));
    logons.add(k);
    if (!data.domains.netbios.some((d) => d.toLowerCase() === u.domain.toLowerCase())) {
      problems.push(problemAt(src, ['users', i, 'domain'], `domain ${u.domain} is not in domains.netbios`));
    }
    u.groups.forEach((g, j) => {
      if (!groupNames.has(g.toLowerCase())) problems.push(problemAt(src, ['users', i, 'groups', j], `unknown group ${g}`));
    });
  });
  for (const cycle of findCycles(data)) {
    const i = groupNames.get(cycle[0]!.toLowerCase()) ?? 0;
    problems.push(problemAt(src, ['groups', i, 'members'], `group nesting cycle: ${cycle.join(' -> ')}`));
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, directory: new FileDirectory(data) };
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

/** An in-memory view of a validated directory file with the lookups the lab and gateway need. */
export class FileDirectory {
  private readonly byLogon = new Map<string, DirectoryUser>();
  private readonly byUpn = new Map<string, DirectoryUser>();
  private readonly byAddress = new Map<string, DirectoryUser>();
  /** group (lower-case) -> groups that directly contain it */
  private readonly parents = new Map<string, string[]>();
  private readonly groupNames = new Map<string, string>();

  constructor(readonly data: DirectoryFile) {
    for (const u of data.users) {
      this.byLogon.set(`${u.domain}\\${u.sAMAccountName}`.toLowerCase(), u);
      this.byUpn.set(u.userPrincipalName.toLowerCase(), u);
      this.byAddress.set(u.mail.toLowerCase(), u);
      for (const p of u.proxyAddresses) this.byAddress.set(p.replace(/^smtp:/i, '').toLowerCase(), u);
    }
    for (const g of data.groups) {
      this.groupNames.set(g.name.toLowerCase(), g.name);
      for (const m of g.members) {
        const k = m.toLowerCase();
        this.parents.set(k, [...(this.parents.get(k) ?? []), g.name.toLowerCase()]);
      }
    }
  }

  byDownLevel(domain: string, sam: string): DirectoryUser | undefined {
    return this.byLogon.get(`${domain}\\${sam}`.toLowerCase());
  }

  byUserPrincipalName(upn: string): DirectoryUser | undefined {
    return this.byUpn.get(upn.toLowerCase());
  }

  byMail(address: string): DirectoryUser | undefined {
    return this.byAddress.get(address.toLowerCase());
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
    const out = new Set<string>();
    const queue = user.groups.map((g) => g.toLowerCase());
    while (queue.length > 0) {
      const g = queue.shift()!;
      if (out.has(g)) continue;
      out.add(g);
      queue.push(...(this.parents.get(g) ?? []));
    }
    return [...out].map((g) => this.groupNames.get(g) ?? g);
  }
}

/** Stable mailbox GUID for a user without one (lab only): derived from the UPN. */
export function mailboxGuidOf(user: DirectoryUser): string {
  if (user.mailboxGuid) return user.mailboxGuid.toLowerCase();
  const h = createHash('sha256').update(user.userPrincipalName.toLowerCase()).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
