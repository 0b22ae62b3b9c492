import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from './load.js';
import { loadDirectoryFile } from '../directory/file-directory.js';

describe('loadConfig', () => {
  it('reports every problem at once with line and column', () => {
    const text = [
      'listeners:',
      '  - port: 99999',
      '    zone: dmz',
      '    tls:',
      '      certificates: []',
      'upstream:',
      '  url: http://exch01',
      '  connectTimeout: soon',
      'bogus: 1',
    ].join('\n');
    const r = loadConfig('/etc/portcullis.yaml', text);
    assert.equal(r.ok, false);
    if (r.ok) return;
    const byPath = new Map(r.problems.map((p) => [p.path, p]));
    assert.equal(byPath.get('listeners[0].port')?.line, 2);
    assert.equal(byPath.get('listeners[0].port')?.column, 11);
    assert.equal(byPath.get('listeners[0].zone')?.line, 3);
    assert.equal(byPath.get('listeners[0].tls.certificates')?.line, 5);
    assert.equal(byPath.get('upstream.url')?.line, 7);
    assert.match(byPath.get('upstream.connectTimeout')?.message ?? '', /not a duration/);
    assert.ok(r.problems.some((p) => p.line === 9 && /unknown setting "bogus"/.test(p.message)));
    assert.ok(r.problems.length >= 6);
  });

  it('reports YAML syntax errors with their position', () => {
    const r = loadConfig('/x.yaml', 'listeners:\n  - port: 1\n   zone: external\n');
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.problems[0]!.line, 3);
  });
});

describe('loadDirectoryFile', () => {
  it('detects group cycles and unknown groups', () => {
    const text = [
      'domains: { netbios: [LAB], upnSuffixes: [lab.example] }',
      'groups:',
      '  - { name: A, members: [B] }',
      '  - { name: B, members: [C] }',
      '  - { name: C, members: [A] }',
      'users:',
      '  - { sAMAccountName: x, domain: LAB, userPrincipalName: x@lab.example, mail: x@lab.example, groups: [Nope] }',
    ].join('\n');
    const r = loadDirectoryFile('/d.yaml', text);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.ok(r.problems.some((p) => /cycle: A -> B -> C -> A/.test(p.message)));
    assert.ok(r.problems.some((p) => /unknown group Nope/.test(p.message) && p.line === 7));
  });

  it('resolves nested membership in the demo directory', () => {
    const r = loadDirectoryFile(new URL('../../examples/demo/directory.yaml', import.meta.url).pathname);
    assert.ok(r.ok);
    if (!r.ok) return;
    const bob = r.directory.resolveLogon('LAB\\bob')!;
    assert.deepEqual(r.directory.groupsOf(bob).sort(), ['Outlook-Remote', 'Sales']);
    assert.equal(r.directory.resolveLogon('carol@lab.example')?.sAMAccountName, 'carol');
  });
});
