import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configSchema } from '../config/schema.js';
import { listenFailure } from './start-errors.js';

const errno = (code: string, syscall: string, extra: Record<string, unknown>) => Object.assign(new Error(`${syscall} ${code}`), { code, syscall, ...extra });

describe('listenFailure', () => {
  const file = path.join(os.tmpdir(), `start-errors-${process.pid}.yaml`);
  writeFileSync(file, 'listeners:\n  - address: 0.0.0.0\n    port: 443\n    tls: {certificates: [{cert: a, key: b}]}\n  - address: gw.internal\n    port: 8443\n    tls: {certificates: [{cert: a, key: b}]}\nupstream: {url: https://x}\nadmin: {port: 9090}\n');
  const config = configSchema.parse({
    listeners: [
      { address: '0.0.0.0', port: 443, tls: { certificates: [{ cert: 'a', key: 'b' }] } },
      { address: 'gw.internal', port: 8443, tls: { certificates: [{ cert: 'a', key: 'b' }] } },
    ],
    upstream: { url: 'https://x' },
    admin: { port: 9090 },
  });

  it('a privileged port: the setting and how to bind it without root', () => {
    const e = listenFailure(errno('EACCES', 'listen', { address: '0.0.0.0', port: 443 }), file, config);
    assert.match(e!.message, new RegExp(`^cannot listen on 0\\.0\\.0\\.0:443 \\(${file.replace(/\./g, '\\.')}:3:11: listeners\\[0\\]\\.port\\): permission denied; ports below 1024 need root or the CAP_NET_BIND_SERVICE capability`));
  });

  it('the admin port in use', () => {
    assert.match(listenFailure(errno('EADDRINUSE', 'listen', { address: '127.0.0.1', port: 9090 }), file, config)!.message, /:9:\d+: admin\.port\): another process already uses this port/);
  });

  it('a listen address that does not resolve', () => {
    assert.match(listenFailure(errno('ENOTFOUND', 'getaddrinfo', { hostname: 'gw.internal' }), file, config)!.message, /^cannot listen on gw\.internal \(.*:5:\d+: listeners\[1\]\.address\): no such host name \(ENOTFOUND\)/);
  });

  it('other errors are not its business', () => {
    assert.equal(listenFailure(new TypeError('x'), file, config), undefined);
    assert.equal(listenFailure(errno('ENOENT', 'open', {}), file, config), undefined);
  });
});
