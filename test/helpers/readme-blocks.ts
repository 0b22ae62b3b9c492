// The README's demo transcripts, marked <!-- demo-check --> … <!-- /demo-check --> around a
// ```text block: lines starting with "$ " are commands (a trailing "\" continues them), the other
// lines are what they print. test/demo-docs.test.ts runs each block as one shell script against
// the running demo and compares. In the expected text, a line "..." stands for any lines and
// "..." inside a line for any text; times, ids, GUIDs and NTLM challenges are normalised.

export interface Step {
  readonly command: string;
  readonly expected: readonly string[];
}

export interface Block {
  readonly line: number;
  readonly steps: readonly Step[];
}

export function demoBlocks(readme: string): Block[] {
  const blocks: Block[] = [];
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '<!-- demo-check -->') continue;
    const start = lines.indexOf('```text', i);
    const end = lines.indexOf('```', start + 1);
    if (start < 0 || end < 0 || lines[end + 1]?.trim() !== '<!-- /demo-check -->') throw new Error(`README.md:${i + 1}: a demo-check needs a \`\`\`text block and <!-- /demo-check --> right after it`);
    const steps: Array<{ command: string; expected: string[] }> = [];
    for (let j = start + 1; j < end; j++) {
      const l = lines[j]!;
      if (l.startsWith('$ ')) {
        let command = l.slice(2);
        while (command.endsWith('\\') && j + 1 < end) command = `${command.slice(0, -1).trimEnd()} ${lines[++j]!.trim()}`;
        steps.push({ command, expected: [] });
      } else {
        if (steps.length === 0) throw new Error(`README.md:${j + 1}: output before the first $ command`);
        steps.at(-1)!.expected.push(l);
      }
    }
    blocks.push({ line: i + 1, steps });
    i = end;
  }
  return blocks;
}

/** Replaces what differs from run to run. */
export function normalise(text: string): string {
  return text
    .replace(/\r/g, '')
    .replace(/\b\d+(\.\d+)? ms\b/g, 'N ms')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<guid>')
    .replace(/(X-Portcullis-Ref: |"ref":"|\(reference )[0-9a-f]+/g, "$1<ref>")
    .replace(/NTLM [A-Za-z0-9+/]{20,}={0,2}/g, 'NTLM <challenge>')
    .replace(/"(time|clientPort|ms|conn|reqBytes|resBytes)":\d+/g, '"$1":N');
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Does `actual` match the expected lines (with "..." wildcards)? Trailing blank lines do not count. */
export function matches(expected: readonly string[], actual: string): boolean {
  const exp = normalise(expected.join('\n')).replace(/\n+$/, '').split('\n');
  const pattern = exp
    .map((l) => (l.trim() === '...' ? '(?:[^\\n]*\\n)*?' : `${l.split('...').map(escapeRe).join('[^\\n]*?')}\\n`))
    .join('');
  return new RegExp(`^${pattern}$`).test(`${normalise(actual).replace(/\n+$/, '')}\n`);
}
