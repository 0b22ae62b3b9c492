import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadDirectoryFile } from './file-directory.js';
import { PackedLookup, entryOf, loadPackedDirectory, packDirectory, packedProvider, transferables } from './file-provider.js';

// Mixed case, two domains, non-ASCII names, a mail that differs from the UPN, a disabled user,
// nesting three levels deep, and a UPN given twice (the last user wins, as with a Map).
const TEXT = `domains:
  netbios: [LAB, Süd]
  upnSuffixes: [lab.example, sud.example]
groups:
  - name: Top
    members: [Mid]
  - name: Mid
    members: [Leaf, Other]
  - name: Leaf
  - name: Other
users:
  - { sAMAccountName: Alice, domain: LAB, userPrincipalName: alice@lab.example, mail: alice@lab.example, groups: [Leaf] }
  - { sAMAccountName: bob, domain: lab, userPrincipalName: Bob@Lab.Example, mail: robert@lab.example, groups: [Other, Top], enabled: false }
  - { sAMAccountName: jürgen, domain: Süd, userPrincipalName: jurgen@sud.example, mail: j@sud.example, groups: [] }
  - { sAMAccountName: twin1, domain: LAB, userPrincipalName: twin@lab.example, mail: twin@lab.example, groups: [Mid] }
  - { sAMAccountName: twin2, domain: LAB, userPrincipalName: TWIN@lab.example, mail: twin2@lab.example, groups: [leaf] }
`;

function load() {
  const r = loadDirectoryFile('/d.yaml', TEXT);
  assert.ok(r.ok, r.ok ? '' : r.problems.map((p) => p.message).join('\n'));
  return r.directory;
}

describe('packed file directory', () => {
  it('finds every user by logon and UPN in any case, with the entry the file directory gives', () => {
    const dir = load();
    const packed = new PackedLookup(packDirectory(dir));
    assert.equal(packed.size, 5);
    for (const u of dir.data.users) {
      for (const [d, s] of [[u.domain, u.sAMAccountName], [u.domain.toUpperCase(), u.sAMAccountName.toUpperCase()], [u.domain.toLowerCase(), u.sAMAccountName.toLowerCase()]] as const) {
        const i = packed.byDownLevel(d, s);
        assert.ok(i >= 0, `${d}\\${s}`);
        assert.deepEqual(packed.entry(i), entryOf(dir, dir.byDownLevel(d, s)!));
      }
      const byUpn = packed.byUserPrincipalName(u.userPrincipalName.toUpperCase());
      assert.deepEqual(packed.entry(byUpn), entryOf(dir, dir.byUserPrincipalName(u.userPrincipalName)!));
    }
    assert.equal(packed.entry(packed.byUserPrincipalName('twin@lab.example')).sam, 'twin2', 'the last of two equal UPNs');
    assert.deepEqual(packed.entry(packed.byDownLevel('lab', 'bob')).groups, ['Other', 'Top', 'Mid']);
    assert.equal(packed.entry(packed.byDownLevel('LAB', 'BOB')).enabled, false);
    assert.equal(packed.entry(packed.byDownLevel('süd', 'JÜRGEN')).mail, 'j@sud.example');
    assert.equal(packed.byDownLevel('LAB', 'nobody'), -1);
    assert.equal(packed.byDownLevel('Süd', 'alice'), -1);
    assert.equal(packed.byUserPrincipalName('alice@sud.example'), -1);
  });

  it('shares one frozen group array between users with the same direct groups', () => {
    const dir = load();
    const packed = new PackedLookup(packDirectory(dir));
    const a = packed.entry(packed.byDownLevel('LAB', 'twin2')).groups;
    const b = packed.entry(packed.byDownLevel('LAB', 'alice')).groups;
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a));
    assert.deepEqual(a, ['Leaf', 'Mid', 'Top']);
  });

  it('survives a transfer to another thread (structured clone, buffers moved)', async () => {
    const p = packDirectory(load());
    const moved = structuredClone(p, { transfer: transferables(p) });
    assert.equal(p.users.length, 0, 'the buffers moved, not copied');
    const provider = packedProvider(moved);
    const r = await provider.lookup({ domain: 'LAB', user: 'ALICE' });
    assert.equal(r.status, 'found');
    if (r.status === 'found') assert.deepEqual(r.entry.groups, ['Leaf', 'Mid', 'Top']);
    assert.deepEqual(await provider.lookup({ domain: '', user: 'nobody@lab.example' }), { status: 'not-found' });
    assert.deepEqual(await provider.lookup({ domain: 'OTHER', user: 'alice' }), { status: 'unknown-domain' });
  });

  it('matches the file directory on 3,000 generated users', () => {
    const users = Array.from({ length: 3000 }, (_, i) => `  - { sAMAccountName: u${i}${i % 3 ? 'ä' : ''}, domain: LAB, userPrincipalName: u${i}@lab.example, mail: ${i % 2 ? `u${i}@lab.example` : `m${i}@lab.example`}, groups: [G${i % 40}${i % 5 ? '' : `, G${(i + 7) % 40}`}] }`).join('\n');
    const groups = Array.from({ length: 40 }, (_, g) => `  - { name: G${g}, members: [${g % 8 === 7 ? '' : `G${g + 1}`}] }`).join('\n');
    const r = loadDirectoryFile('/g.yaml', `domains: { netbios: [LAB], upnSuffixes: [lab.example] }\ngroups:\n${groups}\nusers:\n${users}\n`);
    assert.ok(r.ok);
    if (!r.ok) return;
    const packed = new PackedLookup(packDirectory(r.directory));
    for (const u of r.directory.data.users) assert.deepEqual(packed.entry(packed.byDownLevel('lab', u.sAMAccountName.toUpperCase())), entryOf(r.directory, u));
  });

  it('reads a file straight into the same packed form, and leaves every invalid file to the full reader', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'packed-'));
    const write = (name: string, text: string) => (writeFileSync(path.join(dir, name), text), path.join(dir, name));
    const users = (n: number, over: (i: number) => string = () => '') =>
      Array.from({ length: n }, (_, i) => `  - sAMAccountName: u${i}${i % 3 ? 'é' : ''}\n    domain: ${i % 2 ? 'LAB' : 'lab'}\n    userPrincipalName: u${i}@lab.example\n    mail: ${i % 2 ? `u${i}` : `m${i}`}@lab.example\n    groups: [G${i % 5}${i % 4 ? '' : ', g2'}]\n${i % 9 ? '' : '    enabled: false\n'}${over(i)}`).join('');
    const head = 'domains:\n  netbios: [LAB]\n  upnSuffixes: [lab.example]\ngroups:\n  - name: G0\n    members: [G1]\n  - name: G1\n    members: [G2, G3]\n  - name: G2\n  - name: G3\n  - name: G4\n';
    const good = write('good.yaml', `${head}users:\n${users(500)}`);
    const full = loadDirectoryFile(good);
    assert.ok(full.ok);
    if (!full.ok) return;
    assert.deepEqual(loadPackedDirectory(good), packDirectory(full.directory));
    // users before groups: the checks wait for the end of the file
    const reordered = write('reordered.yaml', `users:\n${users(50)}${head}`);
    assert.ok(loadPackedDirectory(reordered));
    const bad = {
      'defined twice': `${head}users:\n${users(3)}${users(1)}`,
      'unknown group': `${head}users:\n${users(3).replace('groups: [G0, g2]', 'groups: [Nope]')}`,
      'undeclared domain': `${head}users:\n${users(3).replace('domain: lab', 'domain: OTHER')}`,
      'invalid address': `${head}users:\n${users(3).replace('mail: m0@lab.example', 'mail: nobody')}`,
      'unknown setting': `${head}users:\n${users(3, (i) => (i === 1 ? '    colour: blue\n' : ''))}`,
      'nesting cycle': `${head.replace('  - name: G3\n', '  - name: G3\n    members: [G0]\n')}users:\n${users(3)}`,
      'group defined twice': `${head}  - name: g4\nusers:\n${users(3)}`,
      'yaml syntax': `${head}users:\n${users(3)}  - [oops\n`,
    };
    for (const [what, text] of Object.entries(bad)) {
      const f = write(`${what.replace(/ /g, '-')}.yaml`, text);
      assert.equal(loadPackedDirectory(f), undefined, what);
      const r = loadDirectoryFile(f);
      assert.equal(r.ok, false, what);
      if (!r.ok) assert.ok(r.problems.every((p) => p.line > 0), `${what}: every problem has its position`);
    }
    // Valid, but outside the fast parser's subset (a folded scalar): left to the full reader.
    const folded = write('folded.yaml', `${head}users:\n  - sAMAccountName: f\n    domain: LAB\n    userPrincipalName: f@lab.example\n    mail: f@lab.example\n    displayName: >\n      Folded\n      Name\n`);
    assert.equal(loadPackedDirectory(folded), undefined);
    assert.equal(loadDirectoryFile(folded).ok, true);
    assert.equal(loadPackedDirectory(path.join(dir, 'missing.yaml')), undefined);
  });
});
