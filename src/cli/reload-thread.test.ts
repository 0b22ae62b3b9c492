import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createCa, issueServerCert } from '../lab/certs.js';
import { IN_LOOP_BYTES, prepareOffLoop, readsLittle } from './reload-thread.js';
import { prepareReload } from './reload-prepare.js';

const log = pino({ level: 'silent' });

function directory(users: number, groupOf = (i: number) => `G${i % 10}`): string {
  const groups = Array.from({ length: 10 }, (_, g) => `  - name: G${g}\n${g < 9 ? `    members: [G${g + 1}]\n` : ''}`).join('');
  const list = Array.from({ length: users }, (_, i) => `  - sAMAccountName: u${i}\n    domain: LAB\n    userPrincipalName: u${i}@lab.example\n    mail: u${i}@lab.example\n    groups: [${groupOf(i)}]\n`).join('');
  return `domains:\n  netbios: [LAB]\n  upnSuffixes: [lab.example]\ngroups:\n${groups}users:\n${list}`;
}

describe('reload thread', () => {
  let dir: string;
  let config: string;
  let dirFile: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'reload-thread-'));
    const ca = await createCa('t');
    const cert = await issueServerCert(ca, { names: ['localhost'], ips: ['127.0.0.1'] });
    writeFileSync(path.join(dir, 'gw.crt'), cert.cert);
    writeFileSync(path.join(dir, 'gw.key'), cert.key);
    dirFile = path.join(dir, 'directory.yaml');
    config = path.join(dir, 'portcullis.yaml');
    writeFileSync(config, `listeners:\n  - { port: 0, tls: { certificates: [{ cert: gw.crt, key: gw.key }] } }\nupstream: { url: "https://127.0.0.1:1" }\ndirectory: { provider: file, file: directory.yaml }\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads small files on the event loop and big ones in a thread', () => {
    writeFileSync(dirFile, directory(3));
    assert.equal(readsLittle(config), true);
    writeFileSync(dirFile, directory(2_000));
    assert.equal(readsLittle(config), false);
    assert.equal(readsLittle(path.join(dir, 'missing.yaml')), true, 'refused at once, no thread needed');
    assert.ok(IN_LOOP_BYTES < 2_000 * 100);
  });

  it('hands over the same config and packed directory a reload in this thread would build', async () => {
    writeFileSync(dirFile, directory(2_000));
    const inThread = await prepareOffLoop(config, log);
    const here = prepareReload(config);
    assert.ok(inThread.ok && here.ok);
    assert.deepEqual(inThread, { ...here, config: inThread.config });
    assert.deepEqual({ ...inThread.config }, { ...here.config });
    assert.ok(Object.isFrozen(inThread.config));
    assert.equal(inThread.directory!.users.length, 2_000 * 6);
  });

  it('reports a broken directory with file:line:column from the thread', async () => {
    writeFileSync(dirFile, directory(2_000, (i) => (i === 1_500 ? 'Nope' : `G${i % 10}`)));
    const r = await prepareOffLoop(config, log);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.stage, 'directory');
    // 24 lines before the first user, 5 per user: user 1500's groups are on line 24 + 1500 * 5 + 5
    assert.deepEqual(r.problems, [`${dirFile}:${24 + 1_500 * 5 + 5}:14: users[1500].groups[0]: unknown group Nope`]);
  });

  it('reports a broken config before it reads any directory', async () => {
    writeFileSync(dirFile, directory(2_000));
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, `listeners: []\nupstream: { url: "http://x" }\ndirectory: { provider: file, file: directory.yaml }\n${'# padding\n'.repeat(4_000)}`);
    const r = await prepareOffLoop(broken, log);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.stage, 'config');
      assert.ok(r.problems.some((p) => p.startsWith(`${broken}:2:`) && /https/.test(p)), r.problems.join('\n'));
    }
  });
});
