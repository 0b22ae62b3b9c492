// A user's groups with the nesting that gave them: from the file directory's group list (which
// groups contain which), each group the user is in as the chain from a direct group up to it.
import type { DirectoryFile } from '../../directory/file-schema.js';

/** For each group reached, the chain from a direct group to it (`Sales → Outlook-Remote`). */
export function groupChains(direct: readonly string[], groups: DirectoryFile['groups']): string[][] {
  const parents = new Map<string, string[]>();
  for (const g of groups) for (const m of g.members) {
    const k = m.toLowerCase();
    parents.set(k, [...(parents.get(k) ?? []), g.name]);
  }
  const out: string[][] = [];
  const seen = new Set<string>();
  const queue: string[][] = direct.map((g) => [g]);
  while (queue.length) {
    const chain = queue.shift()!;
    const last = chain.at(-1)!;
    if (seen.has(last.toLowerCase())) continue;
    seen.add(last.toLowerCase());
    out.push(chain);
    for (const p of parents.get(last.toLowerCase()) ?? []) queue.push([...chain, p]);
  }
  return out;
}
