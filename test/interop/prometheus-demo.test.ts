// Real Prometheus scrapes the real demo (`portcullis demo`, as `npm run demo` starts it) with the
// example scrape configuration an admin copies: examples/prometheus/prometheus.yml, changed only
// where a test must differ (free ports, the test's own state folder, a 1 s interval). Issue #12:
// "Prometheus scrapes the demo".
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { RawClient } from '../../src/doctor/http-probe.js';
import { type DemoRun, ROOT, freePort, startDemo } from '../helpers/demo-process.js';

const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

interface PromResult {
  readonly status: string;
  readonly data?: { readonly result: Array<{ readonly metric: Record<string, string>; readonly value: [number, string] }> };
}

describe('interop: Prometheus scrapes the demo with the example configuration', () => {
  const state = mkdtempSync(path.join(os.tmpdir(), 'portcullis-prom-demo-'));
  let demo: DemoRun;
  let prom: ChildProcess | undefined;
  let promUrl = '';
  const query = async (q: string): Promise<PromResult> => (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json() as Promise<PromResult>;

  before(async () => {
    demo = await startDemo(state);
    const example = parse(readFileSync(path.join(ROOT, 'examples/prometheus/prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      scrape_configs: Array<{ authorization: { credentials_file: string }; static_configs: Array<{ targets: string[] }> }>;
    };
    const job = example.scrape_configs[0]!;
    // The example points at the demo's default admin port and its default state folder.
    assert.deepEqual(job.static_configs[0]!.targets, ['127.0.0.1:9090']);
    assert.equal(path.resolve(ROOT, 'examples/prometheus', job.authorization.credentials_file), path.join(ROOT, '.demo/admin.token'));
    job.static_configs[0]!.targets = [`127.0.0.1:${demo.ports.adminPort}`];
    job.authorization.credentials_file = path.join(state, 'admin.token');
    example.global = { ...example.global, scrape_interval: '1s', scrape_timeout: '1s' };
    const yml = path.join(state, 'prometheus.yml');
    writeFileSync(yml, stringify(example));
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    prom = spawn('prometheus', [`--config.file=${yml}`, `--storage.tsdb.path=${path.join(state, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    prom.stderr!.on('data', (b: Buffer) => process.stderr.write(`prometheus: ${b}`));
    for (let i = 0; !(await fetch(`${promUrl}/-/ready`).then((r) => r.ok, () => false)); i++) {
      if (i > 150) throw new Error('prometheus did not become ready');
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  after(async () => {
    prom?.kill('SIGTERM');
    await demo?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  it('scrapes the demo: the target is up and the demo users\' requests are counted by decision and reason', async () => {
    const ca = readFileSync(path.join(state, 'ca.crt'), 'utf8');
    const c = await RawClient.connect(demo.ports.port, ca);
    try {
      // EWS: the demo asks browsers on OWA for a second factor, which Basic cannot give.
      for (let i = 0; i < 5; i++) assert.equal((await c.request('GET', '/EWS/Exchange.asmx', { Authorization: basic('LAB\\alice') })).head.status, 200);
    } finally {
      c.close();
    }
    const ecp = await RawClient.connect(demo.ports.port, ca);
    try {
      assert.equal((await ecp.request('GET', '/ecp/', { Authorization: basic('LAB\\alice') })).head.status, 403);
    } finally {
      ecp.close();
    }
    let allowed = 0;
    for (let i = 0; i < 80 && allowed < 5; i++) {
      await new Promise((r) => setTimeout(r, 250));
      allowed = Number((await query('sum(portcullis_requests_total{decision="allow"})')).data?.result[0]?.value[1] ?? 0);
    }
    assert.ok(allowed >= 5, `alice's 5 requests scraped (got ${allowed})`);
    assert.equal((await query('up{job="portcullis"}')).data?.result[0]?.value[1], '1', 'the demo is up for Prometheus');
    const denied = await query('sum(portcullis_requests_total{decision="deny",reason="protocol-blocked-in-zone"})');
    assert.ok(Number(denied.data?.result[0]?.value[1] ?? 0) >= 1, 'the /ecp/ refusal is counted with its reason');
  });
});
