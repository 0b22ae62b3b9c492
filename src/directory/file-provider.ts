// The file directory as the gateway holds it: packed into a few typed arrays (the users' strings
// as UTF-8, open-addressing hash indexes, transitive group sets shared by every user with the same
// direct groups). Why (issue #18): as objects, strings and Maps a 50,000-user directory was about
// a million heap objects that every full GC marks and a reload rebuilt on the event loop; packed,
// it is about 90 bytes per user (4.4 MiB for 50,000) in a few ArrayBuffers, read straight from the
// file one user at a time (loadPackedDirectory), handed over by the reload thread without a copy
// (src/cli/reload-thread.ts), and a lookup decodes only the user it finds.
import { readFileSync } from 'node:fs';
import { type Problem, parsePlainYaml } from '../yaml/yaml-source.js';
import { FileDirectory, directoryProblems } from './file-directory.js';
import { type DirectoryFile, type DirectoryUser, directoryFileSchema, directoryUserSchema } from './file-schema.js';
import { type Claim, type DirectoryEntry, type DirectoryProvider, type LookupResult, claimForm } from './provider.js';

export function entryOf(dir: FileDirectory, u: DirectoryUser): DirectoryEntry {
  return {
    key: `${u.domain.toUpperCase()}\\${u.sAMAccountName.toLowerCase()}`,
    domain: u.domain.toUpperCase(),
    sam: u.sAMAccountName,
    upn: u.userPrincipalName,
    mail: u.mail,
    enabled: u.enabled,
    groups: dir.groupsOf(u),
  };
}

/** A validated directory in structured-clone-able form; the typed arrays can be transferred. */
export interface PackedDirectory {
  readonly netbios: readonly string[];
  readonly upnSuffixes: readonly string[];
  /** Users' domains as written (few distinct ones). */
  readonly domains: readonly string[];
  readonly groupNames: readonly string[];
  /** Group set s is setMembers[setStarts[s] .. setStarts[s + 1]) (indexes into groupNames). */
  readonly setStarts: Int32Array;
  readonly setMembers: Int32Array;
  /** Per user, USER_FIELDS ints: sam start, upn start, mail start, end, domain * 2 + enabled, set. */
  readonly users: Int32Array;
  /** sam, upn and mail of every user, UTF-8; a mail equal to the UPN is not stored twice. */
  readonly text: Uint8Array;
  /** True when `text` is pure ASCII (decoded as latin1, faster). */
  readonly ascii: boolean;
  /** Open addressing, 2 ints per slot: key hash, user index + 1 (0: empty). */
  readonly byLogon: Int32Array;
  readonly byUpn: Int32Array;
}

const USER_FIELDS = 6;

/** FNV-1a over UTF-16 code units (of a lower-cased key). */
function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** An open-addressing index of `count` keys, about half full. */
function table(count: number): Int32Array {
  let slots = 8;
  while (slots < count * 2) slots *= 2;
  return new Int32Array(slots * 2);
}

/**
 * Adds `user` under `key`. A key already there (same hash, `same`) is taken over, as Map.set
 * would: the last of two equal UPNs wins; for logons the caller refuses it first (`find`).
 */
function insert(t: Int32Array, key: string, user: number, same: (other: number) => boolean): void {
  const h = hashOf(key);
  const mask = t.length / 2 - 1;
  let s = h & mask;
  while (t[s * 2 + 1] !== 0 && !(t[s * 2] === h && same(t[s * 2 + 1]! - 1))) s = (s + 1) & mask;
  t[s * 2] = h;
  t[s * 2 + 1] = user + 1;
}

function find(t: Int32Array, key: string, matches: (u: number) => boolean): number {
  const h = hashOf(key);
  const mask = t.length / 2 - 1;
  for (let s = h & mask; t[s * 2 + 1] !== 0; s = (s + 1) & mask) {
    if (t[s * 2] === h && matches(t[s * 2 + 1]! - 1)) return t[s * 2 + 1]! - 1;
  }
  return -1;
}

/** A user's direct groups as a key: equal lists (in any case) share one transitive set. */
function directKey(groups: readonly string[]): string {
  let k = '';
  for (const g of groups) {
    const l = g.toLowerCase();
    k += `${l.length}:${l}`;
  }
  return k;
}

/**
 * Builds a packed directory one validated user at a time, so a directory read from its file never
 * exists as a tree of objects (loadPackedDirectory). finish() makes the checks that need every
 * user (logons defined twice, domains, groups) and answers undefined when one fails: the caller
 * then reads the file the full way, which reports the problem with its position.
 */
class PackBuilder {
  private bytes = Buffer.allocUnsafeSlow(1 << 16);
  private length = 0;
  private ascii = true;
  private fields = new Int32Array(1024 * USER_FIELDS);
  private count = 0;
  private readonly domains: string[] = [];
  private readonly domainIndex = new Map<string, number>();
  /** Per group set, the direct groups of the first user that had it. */
  private readonly directLists: Array<readonly string[]> = [];
  private readonly setIndex = new Map<string, number>();

  private write(s: string): number {
    if (this.length + s.length * 3 > this.bytes.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, this.length + s.length * 3));
      this.bytes.copy(bigger, 0, 0, this.length);
      this.bytes = bigger;
    }
    const n = this.bytes.write(s, this.length, 'utf8');
    if (n !== s.length) this.ascii = false;
    return (this.length += n);
  }

  add(u: DirectoryUser): void {
    let d = this.domainIndex.get(u.domain);
    if (d === undefined) this.domainIndex.set(u.domain, (d = this.domains.push(u.domain) - 1));
    const direct = directKey(u.groups);
    let set = this.setIndex.get(direct);
    if (set === undefined) this.setIndex.set(direct, (set = this.directLists.push(u.groups) - 1));
    if ((this.count + 1) * USER_FIELDS > this.fields.length) {
      const bigger = new Int32Array(this.fields.length * 2);
      bigger.set(this.fields);
      this.fields = bigger;
    }
    const at = this.count++ * USER_FIELDS;
    const f = this.fields;
    f[at] = this.length;
    f[at + 1] = this.write(u.sAMAccountName);
    f[at + 2] = this.write(u.userPrincipalName);
    f[at + 3] = u.mail !== u.userPrincipalName ? this.write(u.mail) : this.length;
    f[at + 4] = d * 2 + (u.enabled ? 1 : 0);
    f[at + 5] = set;
  }

  finish(domains: DirectoryFile['domains'], groups: DirectoryFile['groups']): PackedDirectory | undefined {
    const netbios = new Set(domains.netbios.map((d) => d.toLowerCase()));
    if (this.domains.some((d) => !netbios.has(d.toLowerCase()))) return undefined;
    const known = new Set(groups.map((g) => g.name.toLowerCase()));
    if (this.directLists.some((l) => l.some((g) => !known.has(g.toLowerCase())))) return undefined;
    const graph = new FileDirectory({ domains, groups, users: [] });
    const groupNames = groups.map((g) => g.name);
    const groupIndex = new Map(groupNames.map((g, i) => [g, i]));
    const setStarts = [0];
    const setMembers: number[] = [];
    for (const direct of this.directLists) {
      for (const g of graph.groupsThrough(direct)) setMembers.push(groupIndex.get(g)!);
      setStarts.push(setMembers.length);
    }
    // Exact-size copies with their own ArrayBuffers, so they can be transferred.
    const text = new Uint8Array(this.length);
    text.set(this.bytes.subarray(0, this.length));
    const users = this.fields.slice(0, this.count * USER_FIELDS);
    const byLogon = table(this.count);
    const byUpn = table(this.count);
    const encoding = this.ascii ? 'latin1' : 'utf8';
    const str = (from: number, to: number) => this.bytes.toString(encoding, from, to);
    const logonOf = (u: number) => `${this.domains[users[u * USER_FIELDS + 4]! >> 1]}\\${str(users[u * USER_FIELDS]!, users[u * USER_FIELDS + 1]!)}`.toLowerCase();
    const upnOf = (u: number) => str(users[u * USER_FIELDS + 1]!, users[u * USER_FIELDS + 2]!).toLowerCase();
    for (let u = 0; u < this.count; u++) {
      const logon = logonOf(u);
      if (find(byLogon, logon, (other) => logonOf(other) === logon) >= 0) return undefined;
      insert(byLogon, logon, u, () => false);
      const upn = upnOf(u);
      insert(byUpn, upn, u, (other) => upnOf(other) === upn);
    }
    return {
      netbios: domains.netbios,
      upnSuffixes: domains.upnSuffixes,
      domains: this.domains,
      groupNames,
      setStarts: Int32Array.from(setStarts),
      setMembers: Int32Array.from(setMembers),
      users,
      text,
      ascii: this.ascii,
      byLogon,
      byUpn,
    };
  }
}

/** Packs a validated directory (tools and tests; the gateway reads files with loadPackedDirectory). */
export function packDirectory(dir: FileDirectory): PackedDirectory {
  const b = new PackBuilder();
  for (const u of dir.data.users) b.add(u);
  const packed = b.finish(dir.data.domains, dir.data.groups);
  if (!packed) throw new Error('packDirectory: the directory was not validated');
  return packed;
}

const NOT_PLACED: Problem = { file: '', line: 0, column: 0, path: '', message: '' };

/**
 * Reads a directory file straight into its packed form: the fast parser hands over one user at a
 * time, each is validated by the schema and packed, and nothing else of it is kept. Undefined when
 * the file is unreadable, outside the fast parser's subset, or invalid in any way: then
 * loadDirectoryFile() reads it the full way and reports every problem with file:line:column.
 */
export function loadPackedDirectory(file: string): PackedDirectory | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const builder = new PackBuilder();
  let valid = true;
  const parsed = parsePlainYaml(text, {
    key: 'users',
    item(value) {
      if (!valid) return;
      const u = directoryUserSchema.safeParse(value);
      if (u.success) builder.add(u.data);
      else valid = false;
    },
  });
  if (!parsed || !valid) return undefined;
  const top = directoryFileSchema.safeParse(parsed.value ?? {});
  if (!top.success || top.data.users.length > 0) return undefined;
  if (directoryProblems(top.data, () => NOT_PLACED).length > 0) return undefined;
  return builder.finish(top.data.domains, top.data.groups);
}

/** The buffers to transfer (not copy) with a packed directory. */
export function transferables(p: PackedDirectory): ArrayBuffer[] {
  return [p.setStarts, p.setMembers, p.users, p.text, p.byLogon, p.byUpn].map((a) => a.buffer as ArrayBuffer);
}

/** Lookups over a packed directory; nothing is decoded but the user found. */
export class PackedLookup {
  private readonly text: Buffer;
  private readonly encoding: 'latin1' | 'utf8';
  private readonly upperDomains: readonly string[];
  /** Group sets as frozen arrays, made on first use and shared by every entry with that set. */
  private readonly sets: Array<readonly string[] | undefined>;

  constructor(readonly packed: PackedDirectory) {
    this.text = Buffer.from(packed.text.buffer, packed.text.byteOffset, packed.text.byteLength);
    this.encoding = packed.ascii ? 'latin1' : 'utf8';
    this.upperDomains = packed.domains.map((d) => d.toUpperCase());
    this.sets = new Array(packed.setStarts.length - 1);
  }

  get size(): number {
    return this.packed.users.length / USER_FIELDS;
  }

  private str(from: number, to: number): string {
    return this.text.toString(this.encoding, from, to);
  }

  private sam(u: number): string {
    const f = this.packed.users;
    return this.str(f[u * USER_FIELDS]!, f[u * USER_FIELDS + 1]!);
  }

  private upn(u: number): string {
    const f = this.packed.users;
    return this.str(f[u * USER_FIELDS + 1]!, f[u * USER_FIELDS + 2]!);
  }

  /** The user with this `DOMAIN\sam` (any case), or -1. */
  byDownLevel(domain: string, sam: string): number {
    const key = `${domain}\\${sam}`.toLowerCase();
    return find(this.packed.byLogon, key, (u) => `${this.packed.domains[this.packed.users[u * USER_FIELDS + 4]! >> 1]}\\${this.sam(u)}`.toLowerCase() === key);
  }

  /** The user with this UPN (any case), or -1. */
  byUserPrincipalName(upn: string): number {
    const key = upn.toLowerCase();
    return find(this.packed.byUpn, key, (u) => this.upn(u).toLowerCase() === key);
  }

  groups(set: number): readonly string[] {
    const cached = this.sets[set];
    if (cached) return cached;
    const { setStarts, setMembers, groupNames } = this.packed;
    const names: string[] = [];
    for (let i = setStarts[set]!; i < setStarts[set + 1]!; i++) names.push(groupNames[setMembers[i]!]!);
    return (this.sets[set] = Object.freeze(names));
  }

  /** The same entry entryOf() makes from the file's user. */
  entry(u: number): DirectoryEntry {
    const f = this.packed.users;
    const at = u * USER_FIELDS;
    const sam = this.sam(u);
    const upn = this.upn(u);
    const domain = this.upperDomains[f[at + 4]! >> 1]!;
    return {
      key: `${domain}\\${sam.toLowerCase()}`,
      domain,
      sam,
      upn,
      mail: f[at + 2] === f[at + 3] ? upn : this.str(f[at + 2]!, f[at + 3]!),
      enabled: (f[at + 4]! & 1) === 1,
      groups: this.groups(f[at + 5]!),
    };
  }
}

/** The embedded default directory, served from its packed form (replaced as a whole on reload). */
export function packedProvider(packed: PackedDirectory): DirectoryProvider {
  const dir = new PackedLookup(packed);
  const domains = {
    netbios: packed.netbios.map((d) => d.toLowerCase()),
    upnSuffixes: packed.upnSuffixes.map((d) => d.toLowerCase()),
  };
  return {
    name: 'file',
    domains,
    async lookup(claim: Claim): Promise<LookupResult> {
      const form = claimForm(claim, domains);
      if (form.kind === 'unknown-domain') return { status: 'unknown-domain' };
      const u = form.kind === 'upn' ? dir.byUserPrincipalName(form.upn) : dir.byDownLevel(form.domain, form.sam);
      return u >= 0 ? { status: 'found', entry: dir.entry(u) } : { status: 'not-found' };
    },
    async close() {},
  };
}

/** The file provider for a directory loaded in this thread (the start, tools, tests). */
export function fileProvider(dir: FileDirectory): DirectoryProvider {
  return packedProvider(packDirectory(dir));
}
