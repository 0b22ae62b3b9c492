// The admin endpoint as an attacker sees it (security issue #10, point 6): a web page the admin
// visits (CSRF, DNS rebinding) or anyone reaching the port must not revoke, unrevoke, unlock,
// reload or read anything. Real sockets on port 0; `portcullis serve` and `config check` as
// processes where the first start, the printed token and the refusal to start are the point.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { DEMO_DIRECTORY, DEMO_POLICY, type Env, type Pki, startEnv, testPki } from './helpers/env.js';

const BIN = new URL('../bin/portcullis.js', import.meta.url).pathname;
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', PORTCULLIS_ADMIN_TOKEN: '', ...env } });

interface Answer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

/** One request with exactly these headers (fetch cannot forge Host); JSON answer parsed. */
function send(url: string, method: string, p: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: p, method, setHost: false, headers: { Host: u.host, ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}), ...headers } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = { text };
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Every route of the endpoint, with a body that would act if it were accepted. */
const ROUTES: ReadonlyArray<readonly [string, string, unknown?]> = [
  ['GET', '/api/connections'],
  ['GET', '/api/revocations'],
  ['GET', '/api/lockouts'],
  ['POST', '/api/revoke', { user: 'LAB\\bob', reason: 'csrf' }],
  ['POST', '/api/unrevoke', { user: 'LAB\\bob' }],
  ['POST', '/api/unlock', { user: 'LAB\\alice' }],
  ['POST', '/api/reload', {}],
  ['POST', '/api/explain', { user: 'LAB\\bob', protocol: 'mapi', zone: 'external' }],
  ['GET', '/no/such/route'],
];

describe('admin endpoint: refused without the token, from a browser, under a foreign name', () => {
  let env: Env;
  let url = '';
  let token = '';
  const json = { 'Content-Type': 'application/json' };
  const bearer = () => ({ Authorization: `Bearer ${token}` });
  const revocations = async () => (await send(url, 'GET', '/api/revocations', bearer())).json as unknown as unknown[];

  before(async () => {
    env = await startEnv();
    url = env.runtime.admin!.url;
    token = (env.runtime.admin as { token?: string }).token ?? '';
  });
  after(() => env.stop());

  it('no token: 401 on every route except /healthz, and nothing is done', async () => {
    for (const [method, p, body] of ROUTES) {
      const r = await send(url, method, p, body === undefined ? {} : json, body === undefined ? undefined : JSON.stringify(body));
      assert.equal(r.status, 401, `${method} ${p} without a token`);
      assert.equal(typeof r.json['error'], 'string');
    }
    const h = await send(url, 'GET', '/healthz', {});
    assert.equal(h.status, 200);
    assert.deepEqual(h.json, { ok: true }, '/healthz tells liveness and nothing else');
    assert.deepEqual(await revocations(), [], 'the unauthenticated revoke did nothing');
  });

  it('a wrong token, the token without "Bearer", or another scheme: 401', async () => {
    assert.ok(token.length >= 32, 'the runtime exposes its admin token to in-process callers');
    const wrong = [`Bearer ${'A'.repeat(token.length)}`, `Bearer ${token}x`, `Bearer ${token.slice(1)}`, token, `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`, 'Bearer '];
    for (const auth of wrong) {
      const r = await send(url, 'POST', '/api/revoke', { ...json, Authorization: auth }, JSON.stringify({ user: 'LAB\\bob' }));
      assert.equal(r.status, 401, `Authorization: ${auth.slice(0, 12)}…`);
    }
    assert.equal((await send(url, 'GET', '/api/connections', { Authorization: `Bearer ${'A'.repeat(token.length)}` })).status, 401);
    assert.deepEqual(await revocations(), []);
  });

  it('a POST that is not application/json gets 415 even with the right token (no simple cross-site request acts)', async () => {
    const body = JSON.stringify({ user: 'LAB\\bob' });
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
      for (const p of ['/api/revoke', '/api/unrevoke', '/api/unlock', '/api/reload']) {
        const r = await send(url, 'POST', p, { ...bearer(), ...(type ? { 'Content-Type': type } : {}) }, body);
        assert.equal(r.status, 415, `${p} with Content-Type ${type ?? '(none)'}`);
      }
    }
    assert.deepEqual(await revocations(), []);
    const ok = await send(url, 'POST', '/api/revoke', { ...bearer(), 'Content-Type': 'application/json; charset=utf-8' }, body);
    assert.equal(ok.status, 200, 'application/json with a charset is JSON');
    assert.equal((await send(url, 'POST', '/api/unrevoke', { ...bearer(), ...json }, body)).status, 200);
  });

  it('a revocation longer than five years, or of no number, is refused with 400; the gateway and its state stay usable', async () => {
    // An outside attack: minutes 200000000000 once made an end no Date or SQLite read could hold: the
    // gateway crashed writing its audit record and then refused to start on its own state file.
    for (const minutes of [200_000_000_000, 1e308, 2_628_001, 0, -5, '10', 1e-9, 0.5]) {
      const r = await send(url, 'POST', '/api/revoke', { ...bearer(), ...json }, JSON.stringify({ user: 'LAB\\erin', minutes }));
      assert.equal(r.status, 400, String(minutes));
      assert.match(String((r.json as { error?: string }).error), /minutes must be/);
    }
    assert.deepEqual(await revocations(), []);
    const ok = await send(url, 'POST', '/api/revoke', { ...bearer(), ...json }, JSON.stringify({ user: 'LAB\\erin', minutes: 2_628_000 }));
    assert.equal(ok.status, 200, 'five years is the longest');
    assert.equal((await send(url, 'POST', '/api/unrevoke', { ...bearer(), ...json }, JSON.stringify({ user: 'LAB\\erin' }))).status, 200);
  });

  it('a foreign Origin gets 403 even with the token; the same origin passes', async () => {
    const body = JSON.stringify({ user: 'LAB\\bob' });
    for (const origin of ['https://evil.example', 'http://evil.example', 'null', `http://localhost:${new URL(url).port}1`, 'http://127.0.0.1:1']) {
      const r = await send(url, 'POST', '/api/revoke', { ...bearer(), ...json, Origin: origin }, body);
      assert.equal(r.status, 403, `Origin: ${origin}`);
      assert.equal(typeof r.json['error'], 'string');
      assert.equal((await send(url, 'GET', '/api/connections', { ...bearer(), Origin: origin })).status, 403);
    }
    assert.deepEqual(await revocations(), []);
    assert.equal((await send(url, 'GET', '/api/revocations', { ...bearer(), Origin: url })).status, 200, 'same origin');
  });

  it('a foreign Host (DNS rebinding) is refused even with the token; the own address and localhost pass', async () => {
    const port = new URL(url).port;
    const body = JSON.stringify({ user: 'LAB\\alice' });
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`, `127.0.0.1:${Number(port) + 1}`, `localhost.evil.example:${port}`]) {
      const r = await send(url, 'POST', '/api/unlock', { ...bearer(), ...json, Host: host }, body);
      assert.ok(r.status === 421 || r.status === 403, `Host: ${host} gave ${r.status}`);
      assert.equal(typeof r.json['error'], 'string');
      assert.ok([421, 403].includes((await send(url, 'GET', '/api/connections', { ...bearer(), Host: host })).status));
    }
    // A rebinding page's Origin matches its Host; both are the attacker's name.
    const rebound = await send(url, 'POST', '/api/unlock', { ...bearer(), ...json, Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` }, body);
    assert.ok(rebound.status === 421 || rebound.status === 403);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      assert.equal((await send(url, 'GET', '/api/connections', { ...bearer(), Host: host })).status, 200, `Host: ${host}`);
    }
    assert.equal((await send(url, 'GET', '/healthz', { Host: `evil.example:${port}` })).status, 200, 'load balancers probe /healthz under any name');
  });

  it('a request target that is not a path is refused and does not take the gateway down', async () => {
    for (const target of ['//', '//x', 'http://127.0.0.1/api/connections']) {
      const r = await send(url, 'GET', target, {});
      assert.equal(r.status, 400, target);
      assert.equal((await send(url, 'GET', target, bearer())).status, 400, `${target} with the token`);
    }
    assert.equal((await send(url, 'GET', '/healthz', {})).status, 200, 'still alive');
  });
});

describe('admin endpoint: admin.allowedHosts', () => {
  it('names listed in admin.allowedHosts are accepted as Host, others still refused', async () => {
    const env = await startEnv({ config: (b) => ({ ...b, admin: { address: '127.0.0.1', port: 0, allowedHosts: ['gw-admin.lab.example'] } }) });
    try {
      const admin = env.runtime.admin as { url: string; token: string };
      const port = new URL(admin.url).port;
      const auth = { Authorization: `Bearer ${admin.token}` };
      assert.equal((await send(admin.url, 'GET', '/api/connections', { ...auth, Host: `gw-admin.lab.example:${port}` })).status, 200);
      assert.equal((await send(admin.url, 'GET', '/api/connections', { ...auth, Host: `gw-admin.lab.example:${port}`, Origin: `http://gw-admin.lab.example:${port}` })).status, 200);
      assert.notEqual((await send(admin.url, 'GET', '/api/connections', { ...auth, Host: `evil.example:${port}` })).status, 200);
    } finally {
      await env.stop();
    }
  });
});

interface Served {
  readonly proc: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the first JSON log line matching, rejects if the process exits first. */
  waitLog(pred: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  readonly exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

function serve(config: string): Served {
  const proc = spawn(process.execPath, [BIN, 'serve', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let done = false;
  void exited.then(() => (done = true));
  const logs = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitLog(pred, ms = 20_000) {
      const t0 = Date.now();
      for (;;) {
        const hit = logs().find(pred);
        if (hit) return hit;
        if (done) throw new Error(`exited before the log line; stderr: ${err}`);
        if (Date.now() - t0 > ms) throw new Error(`log line not seen; stdout: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (!done) proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** A port nobody listens on right now (for configs a CLI client must find the endpoint from). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('admin token file (portcullis serve, config check)', () => {
  let pki: Pki;
  const writeConfig = (dir: string, admin: Record<string, unknown>) => {
    const file = path.join(dir, 'portcullis.yaml');
    writeFileSync(
      file,
      stringify({
        listeners: [{ address: '127.0.0.1', port: 0, zone: 'external', tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
        upstream: { url: 'https://127.0.0.1:1', tls: { ca: pki.caFile } },
        directory: { provider: 'file', file: DEMO_DIRECTORY },
        policy: DEMO_POLICY,
        admin,
        log: { level: 'info' },
      }),
    );
    return file;
  };
  before(async () => {
    pki = await testPki();
  });

  it('the first start writes a random token to <config dir>/admin.token with mode 0600 and prints it once; the second start does not print it', async () => {
    const dir = mkdtempSync(path.join(pki.dir, 'admin-token-'));
    const config = writeConfig(dir, { address: '127.0.0.1', port: 0 });
    const tokenFile = path.join(dir, 'admin.token');
    const first = serve(config);
    let token = '';
    try {
      const listening = await first.waitLog((l) => l['msg'] === 'admin endpoint listening');
      const admin = `http://127.0.0.1:${String(listening['port'])}`;
      token = readFileSync(tokenFile, 'utf8').trim();
      assert.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      assert.equal((await send(admin, 'GET', '/api/connections', { Authorization: `Bearer ${token}` })).status, 200);
      assert.equal((await send(admin, 'GET', '/api/connections', {})).status, 401);
      for (let i = 0; i < 40 && !first.stderr().includes(token); i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await first.stop();
    }
    assert.equal(first.stderr().split(token).length - 1, 1, `printed exactly once at the first start; stderr: ${first.stderr()}`);
    assert.ok(first.stderr().includes(tokenFile), 'the print names the file');
    assert.ok(!first.stdout().includes(token), 'never in the log');

    chmodSync(tokenFile, 0o644);
    const second = serve(config);
    try {
      await second.waitLog((l) => l['msg'] === 'admin endpoint listening');
      const warn = await second.waitLog((l) => typeof l['msg'] === 'string' && /admin token file .*(group|others)/.test(l['msg']));
      assert.equal(warn['level'], 40, 'a token file others can read is a warning');
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await second.stop();
    }
    assert.equal(readFileSync(tokenFile, 'utf8').trim(), token, 'the token is kept');
    assert.ok(!second.stderr().includes(token) && !second.stdout().includes(token), 'not printed (nor logged) again');
  });

  it('an empty or too short token file: the start is refused with one clear line, nothing listens', async () => {
    for (const [content, why] of [['', /is empty/], ['\n  \n', /is empty/], ['short-token\n', /too short/]] as const) {
      const dir = mkdtempSync(path.join(pki.dir, 'admin-token-bad-'));
      const tokenFile = path.join(dir, 'secret', 'admin.token');
      const config = writeConfig(dir, { address: '127.0.0.1', port: 0, tokenFile: 'secret/admin.token' });
      mkdirSync(path.dirname(tokenFile), { recursive: true });
      writeFileSync(tokenFile, content, { mode: 0o600 });
      const p = serve(config);
      const code = await Promise.race([p.exited, p.waitLog((l) => l['msg'] === 'listening' || l['msg'] === 'admin endpoint listening').then(() => 'started' as const, () => p.exited)]);
      await p.stop();
      assert.notEqual(code, 'started', `started with a token file holding ${JSON.stringify(content)}`);
      assert.equal(code, 1);
      const lines = p.stderr().trim().split('\n');
      assert.equal(lines.length, 1, `one line: ${p.stderr()}`);
      assert.match(lines[0]!, why);
      assert.ok(lines[0]!.includes(tokenFile), 'names the file');
      assert.match(lines[0]!, /delete it|write/, 'says what to do');
      assert.ok(!p.stdout().includes('listening'), 'nothing listens');
    }
  });

  it('config check warns about an admin address that is not loopback without admin.tls, not about loopback', () => {
    const dir = mkdtempSync(path.join(pki.dir, 'admin-check-'));
    const open = cli(['config', 'check', writeConfig(dir, { address: '0.0.0.0', port: 9090 })]);
    assert.equal(open.status, 0, open.stderr);
    assert.match(open.stderr, /warning: .*admin\.address 0\.0\.0\.0 is not loopback.*TLS/);
    const dir2 = mkdtempSync(path.join(pki.dir, 'admin-check-'));
    const loop = cli(['config', 'check', writeConfig(dir2, { address: '127.0.0.1', port: 9090 })]);
    assert.equal(loop.status, 0, loop.stderr);
    assert.doesNotMatch(loop.stderr, /admin\.address|admin token/);
  });

  it('portcullis revoke / revoke --undo / policy explain --admin find the endpoint and its token through -c, or PORTCULLIS_ADMIN_TOKEN', async () => {
    const dir = mkdtempSync(path.join(pki.dir, 'admin-cli-'));
    const port = await freePort();
    const config = writeConfig(dir, { address: '127.0.0.1', port });
    const gw = serve(config);
    try {
      await gw.waitLog((l) => l['msg'] === 'admin endpoint listening');
      const revoke = cli(['revoke', 'LAB\\bob', '-c', config, '--reason', 'test']);
      assert.equal(revoke.status, 0, revoke.stderr);
      assert.match(revoke.stdout, /revoked LAB\\bob: 0 open connection\(s\) closed/);
      const explain = cli(['policy', 'explain', '--user', 'LAB\\bob', '--protocol', 'mapi', '--zone', 'external', '--admin', '-c', config]);
      assert.equal(explain.status, 3, explain.stderr);
      assert.match(explain.stdout, /reasons: revoked/);
      const token = readFileSync(path.join(dir, 'admin.token'), 'utf8').trim();
      const undo = cli(['revoke', 'LAB\\bob', '--undo', '--admin', `http://127.0.0.1:${port}`], { PORTCULLIS_ADMIN_TOKEN: token });
      assert.equal(undo.status, 0, undo.stderr);
      assert.match(undo.stdout, /revocation removed/);
      const none = cli(['revoke', 'LAB\\bob', '--admin', `http://127.0.0.1:${port}`]);
      assert.notEqual(none.status, 0);
      assert.match(none.stderr, /401/);
      assert.match(none.stderr, /-c|PORTCULLIS_ADMIN_TOKEN/, 'says where the token comes from');
    } finally {
      await gw.stop();
    }
  });
});
