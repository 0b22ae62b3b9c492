import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configSchema } from '../config/schema.js';
import { loadDirectoryFile } from '../directory/file-directory.js';
import { entryOf } from '../directory/file-provider.js';
import { casPlan, readCurrentExport, renderPowerShell } from './cas-plan.js';

const demo = new URL('../../examples/demo/', import.meta.url).pathname;
const cfg = configSchema.parse({
  listeners: [{ port: 1, tls: { certificates: [{ cert: 'x', key: 'y' }] } }],
  upstream: { url: 'https://exch01' },
  directory: { provider: 'file', file: path.join(demo, 'directory.yaml') },
  policy: { rules: [{ name: 'outlook', effect: 'allow', zones: ['external'], protocols: ['mapi', 'rpc'], groups: ['Outlook-Remote'] }] },
});

const dir = loadDirectoryFile(path.join(demo, 'directory.yaml'));
if (!dir.ok) throw new Error('demo directory');
const mailboxes = dir.directory.data.users.map((u) => entryOf(dir.directory, u));

describe('cas-plan', () => {
  it('intends external Outlook only for Outlook-Remote members', () => {
    const plan = casPlan(cfg, mailboxes);
    const by = new Map(plan.map((p) => [p.identity, p.intended]));
    assert.deepEqual(by.get('alice@lab.example'), { MAPIBlockOutlookRpcHttp: false, MAPIBlockOutlookExternalConnectivity: false });
    assert.deepEqual(by.get('bob@lab.example'), { MAPIBlockOutlookRpcHttp: false, MAPIBlockOutlookExternalConnectivity: false });
    // Internal RPC stays allowed (zone default), so RPC/HTTP is not blocked mailbox-wide.
    assert.deepEqual(by.get('carol@lab.example'), { MAPIBlockOutlookRpcHttp: false, MAPIBlockOutlookExternalConnectivity: true });
    assert.match(renderPowerShell(plan), /Set-CASMailbox -Identity 'carol@lab\.example' -MAPIBlockOutlookRpcHttp \$false -MAPIBlockOutlookExternalConnectivity \$true/);
  });

  it('prints only changes against a Get-CASMailbox export', () => {
    const f = path.join(os.tmpdir(), `cas-${process.pid}.json`);
    writeFileSync(f, JSON.stringify([{ Identity: 'carol@lab.example', MAPIBlockOutlookRpcHttp: false, MAPIBlockOutlookExternalConnectivity: true }, { Identity: 'alice', MAPIBlockOutlookRpcHttp: true, MAPIBlockOutlookExternalConnectivity: false }]));
    const plan = casPlan(cfg, mailboxes, readCurrentExport(f));
    const by = new Map(plan.map((p) => [p.identity, p.changes]));
    assert.deepEqual(by.get('carol@lab.example'), {});
    assert.deepEqual(by.get('alice@lab.example'), { MAPIBlockOutlookRpcHttp: false });
    assert.match(renderPowerShell(plan), /# carol@lab\.example: already as intended/);
  });

  it('says what is wrong with a --current file', () => {
    assert.throws(() => readCurrentExport('/nonexistent/export.json'), /--current \/nonexistent\/export\.json: not found/);
    const f = path.join(os.tmpdir(), `cas-bad-${process.pid}.json`);
    writeFileSync(f, '{ nope');
    assert.throws(() => readCurrentExport(f), /not JSON .*ConvertTo-Json/);
    writeFileSync(f, '[{"Name": "x"}]');
    assert.throws(() => readCurrentExport(f), /every entry needs an Identity/);
  });
});
