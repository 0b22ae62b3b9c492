import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

describe('loadConfig: Bearer keys', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'config-bearer-'));
  const config = (bearer: string) =>
    ['listeners:', '  - port: 443', '    tls:', '      certificates: [{cert: a.crt, key: a.key}]', 'upstream:', '  url: https://exch01.lab.local', 'identity:', '  bearer:', bearer].join('\n');
  const bearerProblems = (text: string) => {
    const r = loadConfig(path.join(dir, 'portcullis.yaml'), text);
    assert.equal(r.ok, false, 'the certificate files are missing');
    return r.ok ? [] : r.problems.filter((p) => p.path.startsWith('identity')).map((p) => `${p.line}: ${p.path}: ${p.message}`);
  };

  it('key files are relative to the config file and read as the runtime will: a broken one is a problem at its line', () => {
    const pub = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    writeFileSync(path.join(dir, 'issuer.pem'), pub);
    writeFileSync(path.join(dir, 'jwks.json'), '{"keys": [');
    assert.deepEqual(bearerProblems(config('    pemFile: issuer.pem')), [], 'found beside the config, whatever the working folder');
    const broken = bearerProblems(config('    jwksFile: jwks.json'));
    assert.equal(broken.length, 1);
    assert.ok(broken[0]!.startsWith(`9: identity.bearer.jwksFile: Bearer JWKS file ${path.join(dir, 'jwks.json')}: not JSON (`), broken[0]);
    assert.deepEqual(bearerProblems(config('    pemFile: nowhere.pem')), [`9: identity.bearer.pemFile: Bearer PEM key ${path.join(dir, 'nowhere.pem')}: not found`]);
    const r = loadConfig(path.join(dir, 'portcullis.yaml'), config('    pemFile: issuer.pem'));
    assert.equal(!r.ok && r.parsed?.identity?.bearer?.pemFile, path.join(dir, 'issuer.pem'));
  });

  it('a bearer section needs exactly one key file', () => {
    writeFileSync(path.join(dir, 'issuer2.pem'), generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string);
    writeFileSync(path.join(dir, 'jwks2.json'), JSON.stringify({ keys: [generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })] }));
    assert.deepEqual(bearerProblems(config('    jwksFile: jwks2.json\n    pemFile: issuer2.pem')), ['10: identity.bearer.pemFile: give jwksFile or pemFile, not both (only one would be used)']);
    assert.deepEqual(bearerProblems(config('    issuer: https://sts')), ['9: identity.bearer: needs jwksFile or pemFile: without keys no Bearer token could ever name a user']);
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
