// An admin's reset of a user's second factor: `portcullis second-factor reset` on the state store
// with the gateway stopped (the directory resolves the name, the audit trail gets the record with
// the actor), `second-factor keygen`, and POST /api/second-factor/reset on the admin endpoint.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { stringify } from 'yaml';
import pino from 'pino';
import { startAdmin } from '../src/admin/admin-server.js';
import { adminSchema } from '../src/admin/admin-schema.js';
import type { Control } from '../src/admin/control.js';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { registerSecondFactorCommands } from '../src/cli/commands-second-factor.js';
import { events, on, type SecondFactorResetEvent } from '../src/events.js';
import { MemorySecondFactorStore } from '../src/state/memory-second-factor-store.js';
import { SqliteSecondFactorStore } from '../src/state/sqlite-second-factor-store.js';
import { readKeyFile } from '../src/signin/secret-box.js';
import { DEMO_DIRECTORY, testPki } from './helpers/env.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-2fa-admin-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const stateFile = path.join(dir, 'state', 'state.sqlite');
const me = os.userInfo().username;

/** Runs one CLI command in this process; its output lines, or the CliError it threw. */
async function cli(...args: string[]): Promise<{ out: string[]; err: string[]; exitCode: number | undefined }> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (s: string) => void out.push(String(s));
  console.error = (s: string) => void err.push(String(s));
  const code = process.exitCode;
  process.exitCode = undefined;
  try {
    const program = new Command().exitOverride();
    registerSecondFactorCommands(program);
    await program.parseAsync(['node', 'portcullis', ...args]);
    return { out, err, exitCode: process.exitCode as number | undefined };
  } finally {
    [console.log, console.error] = [log, error];
    process.exitCode = code;
  }
}

async function seed(user: string, passkeys: number): Promise<void> {
  const s = new SqliteSecondFactorStore(stateFile);
  await s.open();
  await s.putPendingTotp(user, { keyId: 'k', data: 'sealed' }, Date.now() + 60_000);
  assert.equal(await s.activateTotp(user, { keyId: 'k', data: 'sealed' }, 1, Date.now()), true);
  for (let i = 0; i < passkeys; i++) await s.addPasskey(user, { id: `${user}-${i}`, publicKey: 'pk', counter: 0, transports: [], name: 'k', createdAt: i, lastUsedAt: undefined });
  await s.close();
}

describe('portcullis second-factor', () => {
  let config = '';
  before(async () => {
    const pki = await testPki();
    config = path.join(dir, 'portcullis.yaml');
    writeFileSync(
      config,
      stringify({
        listeners: [{ address: '127.0.0.1', port: 8443, zone: 'external', tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
        upstream: { url: 'https://127.0.0.1:9443', tls: { ca: pki.caFile } },
        directory: { provider: 'file', file: DEMO_DIRECTORY },
        policy: { defaults: { external: 'deny', internal: 'allow' } },
        audit: { store: 'sqlite', dataDir: 'audit' },
        state: { store: 'sqlite', dataDir: 'state' },
      }),
    );
  });

  it('reset, with no gateway running: resolves the name, forgets TOTP and passkeys, records the actor', async () => {
    await seed('LAB\\alice', 2);
    await seed('LAB\\bob', 1);
    const r = await cli('second-factor', 'reset', 'ALICE@lab.example', '-c', config);
    assert.deepEqual(r.out, ['LAB\\alice: second factor reset (TOTP secret and 2 passkey(s) forgotten); the user enrols again at the next sign-in']);
    assert.deepEqual(r.err, []);
    assert.equal(r.exitCode, undefined);
    const s = new SqliteSecondFactorStore(stateFile);
    await s.open();
    assert.equal(await s.activeTotp('LAB\\alice'), undefined);
    assert.deepEqual(await s.passkeys('LAB\\alice'), []);
    assert.equal((await s.passkeys('LAB\\bob')).length, 1, "bob's stay");
    await s.close();
    const audit = new SqliteAuditStore(path.join(dir, 'audit', 'audit.sqlite'), { readOnly: true });
    const recs = await audit.query({ event: '2fa-reset' });
    await audit.close();
    assert.equal(recs.length, 1);
    assert.deepEqual({ user: recs[0]!.user, actor: recs[0]!.actor, cause: recs[0]!.cause }, { user: 'LAB\\alice', actor: `admin:${me}`, cause: 'TOTP, 2 passkey(s) forgotten' });
    const again = await cli('second-factor', 'reset', 'LAB\\alice', '-c', config);
    assert.match(again.out[0]!, /nothing was enrolled/);
  });

  it('reset refuses a name the directory does not know, unless --force with DOMAIN\\user', async () => {
    await assert.rejects(cli('second-factor', 'reset', 'LAB\\alcie', '-c', config), /LAB\\alcie is not in the directory: check the spelling \(--force resets/);
    await assert.rejects(cli('second-factor', 'reset', 'x@elsewhere.example', '-c', config), /is in no domain this gateway serves/);
    await assert.rejects(cli('second-factor', 'reset', 'a\\b\\c d', '-c', config), /./);
    await seed('LAB\\gone', 1);
    const r = await cli('second-factor', 'reset', 'lab\\Gone', '--force', '-c', config);
    assert.deepEqual(r.out, ['LAB\\gone: second factor reset (TOTP secret and 1 passkey(s) forgotten); the user enrols again at the next sign-in']);
  });

  it('reset says so, and exits non-zero, when the audit trail cannot take the record (the reset stands)', async () => {
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(config, 'utf8').replace('dataDir: audit', 'dataDir: audit-is-a-file'));
    writeFileSync(path.join(dir, 'audit-is-a-file'), 'not a folder');
    await seed('LAB\\bob', 0);
    const r = await cli('second-factor', 'reset', 'LAB\\bob', '-c', broken);
    assert.match(r.out[0]!, /^LAB\\bob: second factor reset \(TOTP secret and 1 passkey/);
    assert.match(r.err.join('\n'), /the audit trail could not record this reset: /);
    assert.equal(r.exitCode, 2);
  });

  it('reset refuses a memory state store: there is nothing outside the running gateway to reset', async () => {
    const mem = path.join(dir, 'memory.yaml');
    writeFileSync(mem, readFileSync(config, 'utf8').replace('state:\n  store: sqlite', 'state:\n  store: memory'));
    assert.match(readFileSync(mem, 'utf8'), /state:\n {2}store: memory/);
    await assert.rejects(cli('second-factor', 'reset', 'LAB\\alice', '-c', mem), /has state\.store: memory: the second factor lives inside the running gateway, so reset it there \(POST \/api\/second-factor\/reset/);
  });

  it('keygen writes a usable key, mode 0600, and never overwrites one', async () => {
    const f = path.join(dir, 'second-factor.key');
    const r = await cli('second-factor', 'keygen', f);
    assert.equal(statSync(f).mode & 0o777, 0o600);
    assert.match(r.out[0]!, new RegExp(`^wrote .*second-factor\\.key \\(key id ${readKeyFile(f).id}, mode 0600\\)`));
    const key = readFileSync(f, 'utf8');
    assert.ok(!r.out.join('').includes(key.trim()), 'the key is not printed');
    await assert.rejects(cli('second-factor', 'keygen', f), /exists: a key in use must not be overwritten/);
    assert.equal(readFileSync(f, 'utf8'), key);
    assert.ok(!existsSync(path.join(dir, 'nope')));
  });
});

describe('POST /api/second-factor/reset', () => {
  const post = (url: string, token: string, body: unknown) =>
    fetch(`${url}/api/second-factor/reset`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));
  const control = {
    users: undefined,
    readiness: undefined,
    lookup: async (c: { domain: string; user: string }) =>
      c.user.toLowerCase() === 'alice' || c.user.toLowerCase() === 'alice@lab.example' ? { status: 'found', entry: { key: 'LAB\\alice' } } : { status: 'not-found' },
  } as unknown as Control;
  const cfg = () => adminSchema.parse({ address: '127.0.0.1', port: 0, tokenFile: path.join(dir, `admin-${Math.random()}.token`) })!;

  it('resets through the running gateway with the actor on portcullis:user:second-factor-reset', async () => {
    const store = new MemorySecondFactorStore();
    await store.addPasskey('LAB\\alice', { id: 'c', publicKey: 'pk', counter: 0, transports: [], name: 'k', createdAt: 0, lastUsedAt: undefined });
    const heard: SecondFactorResetEvent[] = [];
    const off = on(events.secondFactorReset, (e) => heard.push(e));
    const admin = await startAdmin(cfg(), { control, log: pino({ level: 'silent' }), secondFactor: store });
    try {
      const r = await post(admin.url, admin.token, { user: 'alice@lab.example', actor: 'root' });
      assert.deepEqual(r, { status: 200, json: { user: 'LAB\\alice', totp: false, passkeys: 1 } });
      assert.deepEqual(heard.map(({ user, actor, totp, passkeys }) => ({ user, actor, totp, passkeys })), [{ user: 'LAB\\alice', actor: 'admin:root', totp: false, passkeys: 1 }]);
      assert.equal((await post(admin.url, admin.token, { user: 'LAB\\nobody' })).status, 404);
      assert.equal((await post(admin.url, 'wrong', { user: 'LAB\\alice' })).status, 401);
      assert.equal(heard.length, 1);
    } finally {
      off();
      await admin.stop();
    }
  });

  it('answers 404 naming the CLI when this gateway has no second factor', async () => {
    const admin = await startAdmin(cfg(), { control, log: pino({ level: 'silent' }) });
    try {
      const r = await post(admin.url, admin.token, { user: 'LAB\\alice' });
      assert.equal(r.status, 404);
      assert.match(String(r.json['error']), /portcullis second-factor reset -c <config> acts on the state store directly/);
    } finally {
      await admin.stop();
    }
  });
});
