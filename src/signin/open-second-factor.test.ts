import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { generate } from 'otplib';
import pino from 'pino';
import { generateKeyFile } from './secret-box.js';
import { openSecondFactorService } from './open-second-factor.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-open-2fa-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function recorder(): { log: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  let text = '';
  const log = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) }));
  return { log, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('openSecondFactorService', () => {
  it('from the config sections: enrols on SQLite, and a second opening (a restart) verifies with a rotated key', async () => {
    const dataDir = path.join(dir, 'data');
    const k1 = path.join(dir, 'k1.key');
    const k2 = path.join(dir, 'k2.key');
    generateKeyFile(k1);
    generateKeyFile(k2);
    let t = Date.UTC(2026, 11, 2, 10, 0, 5);
    const { log, lines } = recorder();
    const a = await openSecondFactorService({ store: 'sqlite', dataDir, postgres: undefined }, { keyFile: k1, previousKeyFiles: [] }, log, () => t);
    const { secret } = await a.startTotp('LAB\\alice', 'alice', 'Org');
    assert.equal(await a.confirmTotp('LAB\\alice', await generate({ secret, epoch: t / 1000 })), 'ok');
    await a.close();
    assert.ok(!readFileSync(path.join(dataDir, 'state.sqlite')).toString('latin1').includes(secret), 'no secret in the file');
    const b = await openSecondFactorService({ store: 'sqlite', dataDir, postgres: undefined }, { keyFile: k2, previousKeyFiles: [k1] }, log, () => t);
    t += 30_000;
    assert.equal(await b.verifyTotp('LAB\\alice', await generate({ secret, epoch: t / 1000 })), 'ok');
    await b.close();
    const ready = lines().filter((l) => l['msg'] === 'second factor ready');
    assert.equal(ready.length, 2);
    assert.equal(ready[1]!['previousKeys'], 1);
    const all = JSON.stringify(lines());
    for (const f of [k1, k2]) assert.ok(!all.includes(readFileSync(f, 'utf8').trim()), 'no key in the log');
    assert.ok(!all.includes(secret));
  });

  it('a missing or malformed key file stops it with one line; an exposed key file is warned about', async () => {
    const { log, lines } = recorder();
    const state = { store: 'memory' as const, dataDir: dir, postgres: undefined };
    await assert.rejects(openSecondFactorService(state, { keyFile: path.join(dir, 'none.key'), previousKeyFiles: [] }, log), /cannot read second-factor key file .*none\.key: ENOENT/);
    const bad = path.join(dir, 'bad.key');
    writeFileSync(bad, 'not a key');
    await assert.rejects(openSecondFactorService(state, { keyFile: bad, previousKeyFiles: [] }, log), /bad\.key does not hold 32 bytes in base64/);
    const k = path.join(dir, 'open.key');
    generateKeyFile(k);
    chmodSync(k, 0o644);
    const svc = await openSecondFactorService(state, { keyFile: k, previousKeyFiles: [] }, log);
    await svc.close();
    assert.ok(lines().some((l) => l['level'] === 40 && /open\.key is readable by every local user/.test(String(l['msg']))));
  });

  it('a store that cannot be opened stops it, naming the store', async () => {
    const k = path.join(dir, 'st.key');
    generateKeyFile(k);
    writeFileSync(path.join(dir, 'file-not-dir'), 'x');
    await assert.rejects(
      openSecondFactorService({ store: 'sqlite', dataDir: path.join(dir, 'file-not-dir'), postgres: undefined }, { keyFile: k, previousKeyFiles: [] }, pino({ level: 'silent' })),
      /^SecondFactorStoreError: second-factor store .*file-not-dir\/state\.sqlite: /,
    );
  });
});
