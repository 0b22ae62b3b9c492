// The measured setups: one fast upstream (nginx answering fixed bodies and files) and, in front of
// it, HAProxy, nginx and Portcullis as equivalent TLS reverse proxies.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type GatewayRuntime, gatewayRuntime } from './runtimes.js';

export const PORTS = { upstream: 19443, haproxy: 20443, nginx: 21443, portcullis: 22443, portcullisPolicy: 23443, portcullisWorkers: 24443, portcullisMemory: 25443 } as const;
export const BODY_1K = 'x'.repeat(1024);

export interface Pki {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly pem: string;
}

export function upstreamConf(dir: string, pki: Pki): string {
  // Two workers (reuseport spreads connections): P3 holds 20,000 pinned upstream connections and
  // one process may hold at most 20,000 descriptors here.
  return `worker_processes 2;
worker_rlimit_nofile 20000;
pid ${dir}/upstream.pid;
error_log ${dir}/upstream-error.log warn;
daemon off;
events { worker_connections 19000; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 900s;
  client_body_temp_path /dev/shm/pcbench/tmp; # same file system as /sink: a rename, not a copy
  proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  server {
    listen 127.0.0.1:${PORTS.upstream} ssl reuseport;
    ssl_certificate ${pki.cert};
    ssl_certificate_key ${pki.key};
    location /mapi/ { return 200 "${BODY_1K}"; }
    location = /big { alias ${dir}/1g.bin; }
    location /sink/ { client_max_body_size 0; client_body_buffer_size 1m; dav_methods PUT; create_full_put_path on; root /dev/shm/pcbench; }
  }
}
`;
}

export function haproxyConf(dir: string, pki: Pki): string {
  return `global
  maxconn 9900
  tune.ssl.default-dh-param 2048
defaults
  mode http
  timeout connect 5s
  timeout client 15m
  timeout server 15m
  timeout http-keep-alive 15m
  option http-keep-alive
frontend fe
  bind 127.0.0.1:${PORTS.haproxy} ssl crt ${pki.pem} alpn http/1.1
  default_backend be
backend be
  server up 127.0.0.1:${PORTS.upstream} ssl verify none
`;
}

export function nginxProxyConf(dir: string, pki: Pki): string {
  return `worker_processes auto;
worker_rlimit_nofile 20000;
pid ${dir}/nginx-proxy.pid;
error_log ${dir}/nginx-proxy-error.log warn;
daemon off;
events { worker_connections 9000; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  keepalive_requests 10000000;
  keepalive_timeout 900s;
  upstream up { server 127.0.0.1:${PORTS.upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${PORTS.nginx} ssl;
    ssl_certificate ${pki.cert};
    ssl_certificate_key ${pki.key};
    client_max_body_size 0;
    location / {
      proxy_pass https://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_read_timeout 900s;
    }
  }
}
`;
}

/** Portcullis in the internal zone; `policy` adds a file directory and Basic identity per request. */
export function portcullisConf(dir: string, pki: Pki, policy: boolean, directory: string, port: number = policy ? PORTS.portcullisPolicy : PORTS.portcullis, workers = 1): string {
  return `workers: ${workers}
listeners:
  - address: 127.0.0.1
    port: ${port}
    zone: internal
    tls: { certificates: [{ cert: ${pki.cert}, key: ${pki.key} }] }
upstream:
  url: https://127.0.0.1:${PORTS.upstream}
  tls: { ca: ${pki.ca} }
policy:
  defaults: { external: deny, internal: ${policy ? 'deny' : 'allow'} }
  anonymousPaths: [${policy ? '' : '/mapi/, /big, /sink/'}]
  rules: [{ name: bench, effect: allow, groups: [Outlook-Remote] }]
${policy ? `directory: { provider: file, file: ${directory} }\n` : ''}autodiscover: { rewrite: false }
# every load generator connects from 127.0.0.1: the per-source cap is for the Internet, not this
connections: { perSourceExempt: [127.0.0.0/8] }
admin: { address: 127.0.0.1, port: 0 }
log: { level: warn }
`;
}

export function start(cmd: string, args: string[], dir: string, name: string): ChildProcess {
  // stdout kept per peer (Portcullis logs warnings there): <dir>/<name>.out
  const out = openSync(path.join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.out`), 'a');
  const p = spawn(cmd, args, { stdio: ['ignore', out, 'pipe'] });
  closeSync(out);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  p.on('exit', (code) => {
    if (code && code !== 0 && !p.killed) console.error(`${name} exited ${code}: ${err.slice(0, 500)}`);
  });
  return p;
}

let runtime: GatewayRuntime | undefined;

/** The runtime every Portcullis of this bench runs on (`--runtime`); the bench's own node by default. */
export function useGatewayRuntime(rt: GatewayRuntime): void {
  runtime = rt;
}

export function currentGatewayRuntime(): GatewayRuntime {
  return (runtime ??= gatewayRuntime(undefined));
}

/** Portcullis as installed (bin/portcullis.js with the gateway's V8 flags), on the bench's gateway runtime. */
export function startPortcullis(root: string, config: string, dir: string, name: string, extraNodeArgs: string[] = []): ChildProcess {
  const [cmd, ...args] = currentGatewayRuntime().portcullis(root, ['serve', '-c', config], extraNodeArgs);
  return start(cmd!, args, dir, name);
}

export function writeConf(dir: string, name: string, text: string): string {
  mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}
