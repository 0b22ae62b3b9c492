// The demo as an admin meets it: the banner's commands run exactly as printed, the README's
// transcripts match what the demo really answers (so they cannot drift), the CA survives a
// restart, and no JSON log line lands between the banner's lines.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DemoRun, ROOT, startDemo } from './helpers/demo-process.js';
import { demoBlocks, matches, normalise } from './helpers/readme-blocks.js';

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
// What `npx` needs: the project's node_modules/.bin (the bundled Node 26) first, as npm scripts have it.
const PATH = `${path.join(ROOT, 'node_modules/.bin')}:${process.env['PATH'] ?? ''}`;

function sh(script: string, timeout = 60_000): { status: number | null; out: string } {
  const r = spawnSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8', timeout, env: { ...process.env, PATH, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The banner's command lines (indented by two spaces, "\" continuations joined). */
function bannerCommands(terminal: string): string[] {
  const lines = terminal.slice(terminal.indexOf('try:')).split('\n');
  const out: string[] = [];
  for (let i = 1; i < lines.length && (lines[i]!.startsWith('  ') || lines[i] === ''); i++) {
    let l = lines[i]!.trim();
    if (!l) continue;
    while (l.endsWith('\\')) l = `${l.slice(0, -1).trimEnd()} ${lines[++i]!.trim()}`;
    out.push(l);
  }
  return out;
}

describe('the demo, its banner and the README', () => {
  const state = mkdtempSync(path.join(os.tmpdir(), 'portcullis-demo-'));
  let demo: DemoRun;
  before(async () => {
    demo = await startDemo(state);
  });
  after(async () => {
    await demo?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  it('prints its banner without JSON log lines (the log goes to the state folder)', async () => {
    assert.doesNotMatch(demo.terminal, /^\{"level"/m);
    const log = path.join(state, 'demo.log');
    // The log is written asynchronously: give it a moment after the banner.
    for (let i = 0; i < 50 && !(existsSync(log) && readFileSync(log, 'utf8').includes('"msg":"listening"')); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(readFileSync(log, 'utf8'), /"msg":"listening"/);
    assert.equal(statSync(log).mode & 0o777, 0o600, 'it names users and client addresses: its owner reads it, nobody else');
    assert.match(demo.terminal, new RegExp(`Log \\(JSON lines\\): ${path.join(state, 'demo.log').replace(/[.]/g, '\\.')}`));
  });

  it('every command in the banner works as printed', () => {
    const commands = bannerCommands(demo.terminal);
    assert.equal(commands.length, 8, commands.join('\n'));
    try {
      const outputs = commands.map((c) => ({ c, ...sh(c) }));
      for (const o of outputs) assert.equal(o.status, 0, `${o.c}\n${o.out}`);
      const [ntlm, ews, autodiscover, ecp, carol, explain, revoke, doctor] = outputs.map((o) => o.out.replace(/\r/g, ''));
      assert.match(ntlm!, /^HTTP\/1\.1 200 OK$[^]*^X-Lab-Identity: LAB\\alice$/m);
      assert.match(ews!, /X-Lab-Identity: LAB\\bob/);
      assert.match(autodiscover!, /<Type>EXPR<\/Type>/);
      assert.match(ecp!, /^HTTP\/1\.1 403 Forbidden$/m);
      assert.doesNotMatch(carol!, /X-Lab-Identity|200 OK/);
      assert.match(explain!, /LAB\\bob mapi from external: ALLOW/);
      assert.match(revoke!, /revoked LAB\\bob: \d+ open connection/);
      assert.match(doctor!, /0 failed, 0 warnings, \d+ passed/);
    } finally {
      assert.match(sh(`npx portcullis revoke 'LAB\\bob' --undo -c ${path.join(state, 'portcullis.yaml')}`).out, /LAB\\bob: revocation/);
    }
  });

  it('the users the banner and the README name are the demo directory\'s', () => {
    const banner = /^Users (.+) \(domain LAB, password Passw0rd!\)/m.exec(demo.terminal)?.[1];
    assert.equal(banner, 'alice, bob, carol, dave and erin');
    assert.match(README, new RegExp(`users ${banner}, password \`Passw0rd!\``));
  });

  it('the README transcripts are what the demo answers', () => {
    const blocks = demoBlocks(README);
    assert.ok(blocks.length >= 4, `only ${blocks.length} demo-check blocks`);
    const { port, dnsPort } = demo.ports;
    const config = path.join(state, 'portcullis.yaml');
    // The README shows the default ports and paths; this run has its own.
    const toRun = (c: string) =>
      c
        .replaceAll(':8443', `:${port}`)
        .replaceAll('127.0.0.1:8053', `127.0.0.1:${dnsPort}`)
        .replaceAll('examples/demo/portcullis.yaml', config)
        .replaceAll('.demo/', `${state}/`);
    const back = (out: string) => out.replaceAll(`:${port}`, ':8443').replaceAll(`127.0.0.1:${dnsPort}`, '127.0.0.1:8053').replaceAll(`${state}/`, '.demo/');
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'portcullis-readme-'));
    try {
      for (const b of blocks) {
        // One shell per block, in the repository like the README's reader (a background job and its
        // `wait` span steps); a marker line splits the outputs.
        const script = ['exec 2>&1', ...b.steps.flatMap((st, i) => [`echo '@@step ${i}'`, toRun(st.command).replaceAll('/tmp/bob.jar', path.join(scratch, 'bob.jar'))])].join('\n');
        const r = sh(script, 120_000);
        const parts = back(r.out).split(/^@@step \d+\n/m).slice(1);
        b.steps.forEach((s, i) => {
          assert.ok(matches(s.expected, parts[i] ?? ''), `README.md:${b.line}: $ ${s.command}\n--- README says\n${s.expected.join('\n')}\n--- the demo answers (normalised)\n${normalise(parts[i] ?? '')}`);
        });
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
      sh(`npx portcullis revoke 'LAB\\bob' --undo -c ${config}`);
    }
  });

  it('a restart keeps the CA and the certificates', async () => {
    const before = ['ca.crt', 'gateway.crt', 'lab.crt'].map((f) => readFileSync(path.join(state, f), 'utf8'));
    assert.match(demo.terminal, /new demo CA .*ca\.crt: trust it once/);
    await demo.stop();
    demo = await startDemo(state, demo.ports);
    assert.match(demo.terminal, /demo CA .*ca\.crt kept from an earlier run/);
    assert.deepEqual(['ca.crt', 'gateway.crt', 'lab.crt'].map((f) => readFileSync(path.join(state, f), 'utf8')), before);
    // The restarted gateway serves with the kept certificate: curl trusts it with the same CA file
    // (and gets the way to the browser sign-in page).
    assert.match(execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', path.join(state, 'ca.crt'), `https://127.0.0.1:${demo.ports.port}/owa/`], { encoding: 'utf8' }), /^302$/);
  });
});
