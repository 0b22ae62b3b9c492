// Real third-party Exchange clients (Debian packages, run with /usr/bin/python3) through the
// gateway to the lab. scripts/test-interop.sh installs them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Env, RPC_TARGET, startEnv } from '../helpers/env.js';

const run = promisify(execFile);
const PY = '/usr/bin/python3';
const CLIENTS = new URL('./clients/', import.meta.url).pathname;
const pyEnv = { ...process.env, PYTHONWARNINGS: 'ignore', REQUESTS_CA_BUNDLE: '' };

async function py(script: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(PY, [CLIENTS + script, ...args], { env: pyEnv, timeout: 60_000 });
    return stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return `${err.stdout ?? ''}\n${err.stderr ?? ''}`;
  }
}

describe('interop: real clients through the gateway', () => {
  let env: Env;
  before(async () => {
    env = await startEnv();
  });
  after(() => env.stop());

  it('impacket RPC over HTTP (NTLM): RTS handshake, bind and ept_lookup', async () => {
    const out = await py('impacket_rpch.py', ['--url', `${env.url}/rpc/rpcproxy.dll?${RPC_TARGET}`, '--user', 'alice', '--password', 'Passw0rd!']);
    console.log(`# impacket NTLM: ${out.trim().split('\n').pop()}`);
    assert.match(out, /^OK entries=0/m);
    const rpc = env.lab.state.log.filter((e) => e.path === '/rpc/rpcproxy.dll' && e.identity === 'LAB\\alice');
    assert.ok(rpc.some((e) => e.method === 'RPC_IN_DATA') && rpc.some((e) => e.method === 'RPC_OUT_DATA'));
  });

  it('impacket RPC over HTTP (Basic)', async () => {
    const out = await py('impacket_rpch.py', ['--url', `${env.url}/rpc/rpcproxy.dll?${RPC_TARGET}`, '--user', 'bob', '--password', 'Passw0rd!', '--auth', 'basic']);
    assert.match(out, /^OK entries=0/m);
  });

  it('impacket with a wrong password fails cleanly', async () => {
    const out = await py('impacket_rpch.py', ['--url', `${env.url}/rpc/rpcproxy.dll?${RPC_TARGET}`, '--user', 'alice', '--password', 'wrong']);
    assert.match(out, /FAILED: .*401/);
  });

  it('impacket as carol (not in Outlook-Remote) is refused before Exchange sees her credentials, as a wrong password is', async () => {
    const out = await py('impacket_rpch.py', ['--url', `${env.url}/rpc/rpcproxy.dll?${RPC_TARGET}`, '--user', 'carol', '--password', 'Passw0rd!']);
    const wrong = await py('impacket_rpch.py', ['--url', `${env.url}/rpc/rpcproxy.dll?${RPC_TARGET}`, '--user', 'alice', '--password', 'wrong']);
    assert.match(out, /FAILED: .*401/);
    assert.equal(out.trim().split('\n').pop(), wrong.trim().split('\n').pop(), 'impacket cannot tell carol from a wrong password');
    assert.equal(env.lab.state.log.filter((e) => e.claimedUser === 'LAB\\carol').length, 0);
  });

  it('exchangelib as carol is refused the way a wrong password is', async () => {
    const out = await py('exchangelib_client.py', ['ews', '--base', env.url, '--user', 'LAB\\carol', '--email', 'carol@lab.example', '--password', 'Passw0rd!']);
    const wrong = await py('exchangelib_client.py', ['ews', '--base', env.url, '--user', 'LAB\\alice', '--email', 'alice@lab.example', '--password', 'wrong']);
    assert.match(out, /FAILED/);
    assert.equal(out.replace(/carol/g, 'X').trim(), wrong.replace(/alice/g, 'X').trim(), 'exchangelib cannot tell carol from a wrong password');
    assert.equal(env.lab.state.log.filter((e) => e.claimedUser === 'LAB\\carol').length, 0);
  });

  it('exchangelib POX Autodiscover, then EWS ResolveNames and GetFolder(inbox)', async () => {
    const out = await py('exchangelib_client.py', ['pox', '--base', env.url, '--user', 'LAB\\alice', '--email', 'alice@lab.example', '--password', 'Passw0rd!']);
    assert.match(out, new RegExp(`ews_url=${env.url}/EWS/Exchange.asmx`));
    assert.match(out, /resolved=1 inbox=Inbox/);
    assert.match(out, /^OK/m);
  });

  it('exchangelib POX Autodiscover as erin (MAPI, not RPC): no RPC block, only published names, EWS works', async () => {
    const out = await py('exchangelib_client.py', ['pox', '--base', env.url, '--user', 'LAB\\erin', '--email', 'erin@lab.example', '--password', 'Passw0rd!']);
    assert.match(out, /^protocols=EXCH$/m, 'EXPR and EXHTTP (RPC over HTTP) removed; the EXCH block keeps the EWS URLs');
    assert.match(out, new RegExp(`^hosts=127\\.0\\.0\\.1:${env.port}$`, 'm'));
    assert.match(out, /resolved=1 inbox=Inbox/);
  });

  it('exchangelib SOAP Autodiscover as erin: the EWS URL is the published one', async () => {
    const out = await py('exchangelib_client.py', ['soap', '--base', env.url, '--user', 'LAB\\erin', '--email', 'erin@lab.example', '--password', 'Passw0rd!']);
    assert.match(out, new RegExp(`settings_ews_url=https://127\\.0\\.0\\.1:${env.port}/EWS/Exchange.asmx`));
    assert.match(out, /^OK/m);
  });

  it('exchangelib Autodiscover as carol (allowed nothing from outside): denied', async () => {
    const out = await py('exchangelib_client.py', ['pox', '--base', env.url, '--user', 'LAB\\carol', '--email', 'carol@lab.example', '--password', 'Passw0rd!']);
    assert.match(out, /FAILED/);
    assert.doesNotMatch(out, /^OK/m);
  });

  it('exchangelib SOAP Autodiscover (GetUserSettings), then EWS', async () => {
    const out = await py('exchangelib_client.py', ['soap', '--base', env.url, '--user', 'LAB\\bob', '--email', 'bob@lab.example', '--password', 'Passw0rd!']);
    assert.match(out, /resolved=1 inbox=Inbox/);
    assert.match(out, /^OK/m);
  });

  it('exchangelib EWS directly with NTLM', async () => {
    const out = await py('exchangelib_client.py', ['ews', '--base', env.url, '--user', 'LAB\\bob', '--email', 'bob@lab.example', '--password', 'Passw0rd!']);
    assert.match(out, /^OK/m);
  });

  it('curl --negotiate with gss-ntlmssp: SPNEGO-wrapped NTLM binds the connection to the user', async () => {
    const users = path.join(env.pki.dir, 'ntlm-users');
    writeFileSync(users, 'LAB:bob:Passw0rd!\n');
    const { stdout, stderr } = await run('curl', ['-s', '-v', '--cacert', env.pki.caFile, '--negotiate', '-u', ':', `${env.url}/owa/`], {
      env: { ...process.env, NTLM_USER_FILE: users },
    });
    assert.match(stderr, /> Authorization: Negotiate YE/, 'the first leg is a SPNEGO NegTokenInit');
    assert.match(stderr, /< HTTP\/1\.1 200 OK/);
    assert.match(stdout + stderr, /X-Lab-Identity: LAB\\bob/);
  });

  it('requests-ntlm: one handshake, then several requests on the authenticated connection', async () => {
    const out = await py('requests_ntlm_client.py', ['--url', `${env.url}/owa/`, '--user', 'LAB\\alice', '--password', 'Passw0rd!']);
    assert.match(out, /identities=LAB\\alice,LAB\\alice,LAB\\alice,LAB\\alice,LAB\\alice/);
    assert.match(out, /^OK/m);
  });
});
