// Real Prometheus (Debian's prometheus and promtool; scripts/test-interop.sh installs them)
// scrapes `portcullis serve` with two worker processes under load: the exposition passes
// `promtool check metrics`, the scraped series are the expected ones, and every query of the
// Grafana dashboard in examples/ evaluates against them.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { RawClient } from '../../src/doctor/http-probe.js';
import { type Lab } from '../../src/lab/lab-server.js';
import { dashboardQueries } from '../../src/metrics/dashboard-queries.js';
import { DEMO_DIRECTORY, DEMO_POLICY, type Pki, testPki, demoLab } from '../helpers/env.js';
import { type Served, serve } from '../helpers/served.js';

const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const DASHBOARD = new URL('../../examples/grafana/portcullis-dashboard.json', import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function promtoolCheck(text: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = execFile('promtool', ['check', 'metrics'], (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }));
    p.stdin!.end(text);
  });
}

interface PromResult {
  readonly status: string;
  readonly error?: string;
  readonly data?: { readonly result: Array<{ readonly metric: Record<string, string>; readonly value: [number, string] }> };
}

describe('interop: Prometheus scrapes the gateway under load', () => {
  let pki: Pki;
  let lab: Lab;
  let gw: Served;
  let prom: ChildProcess;
  let promUrl = '';
  let port = 0;
  let admin = '';
  let token = '';
  let loading = true;
  let load: Promise<number>;
  const query = async (q: string): Promise<PromResult> => (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json() as Promise<PromResult>;

  before(async () => {
    pki = await testPki();
    lab = await demoLab(pki);
    const dir = mkdtempSync(path.join(pki.dir, 'prometheus-'));
    copyFileSync(DEMO_DIRECTORY, path.join(dir, 'directory.yaml'));
    const config = path.join(dir, 'portcullis.yaml');
    writeFileSync(
      config,
      stringify({
        workers: 2,
        listeners: [{ address: '127.0.0.1', port: 0, zone: 'external', tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
        upstream: { url: lab.url, tls: { ca: pki.caFile } },
        directory: { provider: 'file', file: path.join(dir, 'directory.yaml') },
        policy: DEMO_POLICY,
        admin: { address: '127.0.0.1', port: 0 },
        log: { level: 'info' },
      }),
    );
    gw = serve(config);
    const ready = await gw.waitFor((l) => l['msg'] === 'gateway ready', 20_000);
    port = (ready['listeners'] as Array<{ port: number }>)[0]!.port;
    admin = `http://127.0.0.1:${(await gw.waitFor((l) => l['msg'] === 'admin endpoint listening'))['port']}`;
    token = readFileSync(path.join(dir, 'admin.token'), 'utf8').trim();
    // Load: allowed and denied requests on kept-alive connections, until the test ends.
    load = (async () => {
      let n = 0;
      const worker = async (user: string, where: string) => {
        while (loading) {
          const c = await RawClient.connect(port, pki.ca);
          for (let i = 0; i < 20 && loading; i++) {
            const r = await c.request('GET', where, { Authorization: basic(user) });
            n++;
            // Steady load, not a saturating one: the machine also runs Prometheus and the scrapes.
            await new Promise((res) => setTimeout(res, 10));
            if (r.header('connection') === 'close') break;
          }
          c.close();
        }
      };
      await Promise.all([worker('LAB\\alice', '/owa/'), worker('LAB\\bob', '/owa/'), worker('LAB\\alice', '/EWS/Exchange.asmx'), worker('LAB\\carol', '/owa/'), worker('LAB\\alice', '/ecp/')]);
      return n;
    })();
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const promYml = path.join(dir, 'prometheus.yml');
    writeFileSync(
      promYml,
      stringify({
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        scrape_configs: [
          {
            job_name: 'portcullis',
            metrics_path: '/metrics',
            authorization: { type: 'Bearer', credentials_file: path.join(dir, 'admin.token') },
            static_configs: [{ targets: [admin.replace('http://', '')] }],
          },
        ],
      }),
    );
    prom = spawn('prometheus', [`--config.file=${promYml}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    prom.stderr!.on('data', (b: Buffer) => process.stderr.write(`prometheus: ${b}`));
    for (let i = 0; ; i++) {
      const ok = await fetch(`${promUrl}/-/ready`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 100) throw new Error('prometheus did not become ready');
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  after(async () => {
    loading = false;
    await load?.catch(() => 0);
    prom?.kill('SIGTERM');
    if (gw?.proc.exitCode === null) {
      const exited = new Promise((r) => gw.proc.once('exit', r));
      gw.proc.kill('SIGTERM');
      await exited;
    }
    await lab?.stop();
  });

  it('the exposition passes promtool check metrics', async () => {
    const text = await (await fetch(`${admin}/metrics`, { headers: { Authorization: `Bearer ${token}` } })).text();
    const r = await promtoolCheck(text);
    assert.equal(r.code, 0, r.out);
    assert.match(text, /^portcullis_requests_total\{/m);
  });

  it('the example scrape config for the demo passes promtool check config', async () => {
    const dir = mkdtempSync(path.join(pki.dir, 'prom-example-'));
    const example = readFileSync(new URL('../../examples/prometheus/prometheus.yml', import.meta.url), 'utf8');
    assert.match(example, /credentials_file: \.\.\/\.\.\/\.demo\/admin\.token/);
    writeFileSync(path.join(dir, 'admin.token'), 'x'.repeat(43));
    writeFileSync(path.join(dir, 'prometheus.yml'), example.replace('../../.demo/admin.token', 'admin.token'));
    const r = await promisify(execFile)('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')]).then(
      (o) => ({ code: 0, out: o.stdout + o.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );
    assert.equal(r.code, 0, r.out);
  });

  it('Prometheus scrapes the expected series from both workers', async () => {
    // At least five scrapes: rate() over the dashboard's windows needs two or more samples.
    for (let i = 0; i < 60; i++) {
      const n = await query('min(count_over_time(portcullis_requests_total[1m]))');
      if (Number(n.data?.result[0]?.value[1] ?? 0) >= 5) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal((await query('up{job="portcullis"}')).data?.result[0]?.value[1], '1', 'the target is up');
    const expect = async (q: string, check: (v: number) => boolean, why: string) => {
      const r = await query(q);
      assert.equal(r.status, 'success', `${q}: ${r.error}`);
      const v = Number(r.data?.result[0]?.value[1]);
      assert.ok(check(v), `${why}: ${q} = ${v}`);
      return v;
    };
    const allowed = await expect('sum(portcullis_requests_total{decision="allow"})', (v) => v > 50, 'allowed requests counted');
    await expect('sum(portcullis_requests_total{decision="deny",reason="protocol-blocked-in-zone"})', (v) => v > 0, '/ecp/ refused in the external zone');
    await expect('sum(portcullis_gate_decisions_total{gate="access",decision="deny"})', (v) => v > 0, "carol's concealed refusals");
    await expect('sum(portcullis_identity_handshakes_total{scheme="Basic",outcome="bound"})', (v) => v > 0, 'logins bound');
    await expect('sum(portcullis_client_connections)', (v) => v >= 1, 'connections open under load');
    await expect('sum(portcullis_request_duration_seconds_count)', (v) => v > 50, 'durations observed');
    await expect('sum(portcullis_upstream_connect_duration_seconds_count)', (v) => v > 0, 'upstream connects timed');
    await expect('sum(portcullis_client_bytes_total{direction="out"})', (v) => v > 0, 'bytes counted');
    const procs = await query('count(portcullis_process_start_time_seconds)');
    assert.equal(procs.status, 'success');
    const took = await query('max_over_time(scrape_duration_seconds{job="portcullis"}[1m])');
    const upRatio = await query('avg_over_time(up{job="portcullis"}[1m])');
    console.log(`# Prometheus: ${allowed} allowed requests scraped from 2 workers; slowest scrape ${(Number(took.data?.result[0]?.value[1]) * 1000).toFixed(0)} ms, scrapes up ${(Number(upRatio.data?.result[0]?.value[1]) * 100).toFixed(0)} %`);
  });

  it('every query of the Grafana dashboard evaluates against the scraped gateway', async () => {
    const queries = dashboardQueries(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
    let withData = 0;
    for (const q of queries) {
      const r = await query(q.expr);
      assert.equal(r.status, 'success', `${q.panel}: ${q.expr}: ${r.error}`);
      if ((r.data?.result.length ?? 0) > 0) withData++;
      else console.log(`# no data (yet): ${q.panel}: ${q.expr}`);
    }
    // Series with labels exist only once counted (no upstream failure, no refused socket here).
    assert.ok(withData >= queries.length - 4, `${withData} of ${queries.length} queries returned data`);
    console.log(`# Grafana dashboard: ${queries.length} queries evaluate, ${withData} with data`);
  });
});
