// Real reverse proxies (Debian's nginx and HAProxy) in front of the gateway, configured the way
// admins misconfigure them, for the doctor's fault scenarios. Each runs in the foreground from its
// own temporary folder and is stopped by its process id. nginx and HAProxy cannot listen on port 0,
// so a free port is taken from the kernel just before the start.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Intermediary {
  readonly port: number;
  readonly dir: string;
  /** What the process printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitListening(port: number, child: ChildProcess, out: () => string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`intermediary exited: ${out()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`intermediary did not listen on ${port}: ${out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function start(cmd: string, args: string[], dir: string, port: number): Promise<Intermediary> {
  const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const output = () => text;
  await waitListening(port, child, output);
  return {
    port,
    dir,
    output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

export interface NginxOptions {
  /** Certificate file as the server sends it (leaf, or leaf + intermediates) and its key. */
  readonly cert: string;
  readonly key: string;
  /** The gateway (or anything else) nginx forwards to, as https://127.0.0.1:PORT. */
  readonly upstream: string;
  /** Directives inside `server { }` before the default location (timeouts, limits, returns). */
  readonly server?: string;
  /** Directives inside the default `location / { }` (after proxy_pass). */
  readonly location?: string;
  /** Extra `server { }` blocks or other http-level directives. */
  readonly http?: string;
  /** ssl_protocols / ssl_ciphers lines; default TLS 1.2 and 1.3. */
  readonly tls?: string;
  /** Directives in `upstream backend { }` after the server line. */
  readonly upstreamBlock?: string;
}

/** nginx as the reverse proxy of the Exchange guides: TLS in front, HTTPS to the gateway. */
export async function startNginx(o: NginxOptions): Promise<Intermediary> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'doctor-nginx-'));
  const port = await freePort();
  const up = new URL(o.upstream);
  const conf = `
master_process off; daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream backend { server ${up.hostname}:${up.port}; ${o.upstreamBlock ?? ''} }
  ${o.http ?? ''}
  server {
    listen 127.0.0.1:${port} ssl;
    server_name mail.lab.example autodiscover.lab.example;
    ssl_certificate ${o.cert}; ssl_certificate_key ${o.key};
    ${o.tls ?? 'ssl_protocols TLSv1.2 TLSv1.3;'}
    ${o.server ?? ''}
    location / {
      proxy_pass https://backend;
      proxy_ssl_server_name on; proxy_ssl_name mail.lab.example; proxy_ssl_verify off;
      proxy_set_header Host $http_host;
      ${o.location ?? ''}
    }
  }
}
`;
  writeFileSync(path.join(dir, 'nginx.conf'), conf);
  return start('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], dir, port).then((i) => ({ ...i, output: () => `${i.output()}${readLog(dir, 'error.log')}` }));
}

/** The directives of a well-configured nginx for Exchange (streaming, NTLM affinity, long time-outs). */
export const NGINX_GOOD = {
  server: 'client_max_body_size 0; large_client_header_buffers 4 64k; proxy_read_timeout 3600s; proxy_send_timeout 3600s;',
  location: 'proxy_http_version 1.1; proxy_set_header Connection ""; proxy_request_buffering off; proxy_buffering off;',
  upstreamBlock: 'keepalive 16;',
};

export interface HaproxyOptions {
  /** leaf + intermediates + key in one PEM file (HAProxy's crt format). */
  readonly pem: string;
  readonly upstream: string;
  /** Lines for the `defaults` section (timeouts, options). */
  readonly defaults?: string;
  /** Lines for the frontend (http-request / http-response rules). */
  readonly frontend?: string;
  /** Extra words on the bind line (alpn, proto). */
  readonly bind?: string;
  /** Lines for the global section; the default raises the 16 KB buffer so large NTLM/Kerberos headers pass. */
  readonly global?: string;
}

export async function startHaproxy(o: HaproxyOptions): Promise<Intermediary> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'doctor-haproxy-'));
  const port = await freePort();
  const up = new URL(o.upstream);
  const cfg = `
global
  log stderr format raw local0 warning
  ${o.global ?? 'tune.bufsize 65536'}
defaults
  mode http
  ${o.defaults ?? 'timeout connect 5s\n  timeout client 1h\n  timeout server 1h\n  timeout tunnel 1h'}
frontend fe
  bind 127.0.0.1:${port} ssl crt ${o.pem} ${o.bind ?? ''}
  ${o.frontend ?? ''}
  default_backend be
backend be
  server gw ${up.hostname}:${up.port} ssl verify none sni str(mail.lab.example)
`;
  writeFileSync(path.join(dir, 'haproxy.cfg'), cfg);
  return start('haproxy', ['-f', path.join(dir, 'haproxy.cfg'), '-db'], dir, port);
}

/** HAProxy's crt file: the certificate chain followed by the key. */
export function haproxyPem(dir: string, certFile: string, keyFile: string): string {
  const f = path.join(dir, `hap-${Math.random().toString(16).slice(2)}.pem`);
  writeFileSync(f, readFileSync(certFile, 'utf8') + readFileSync(keyFile, 'utf8'));
  return f;
}

function readLog(dir: string, name: string): string {
  try {
    return readFileSync(path.join(dir, name), 'utf8');
  } catch {
    return '';
  }
}
