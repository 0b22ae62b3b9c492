import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { adminAddressWarning, allowedHosts, bearerMatches, checkRequest, consoleCookieWarning, hostAllowed, isJson, isLoopback, originAllowed, tokenDigest } from './admin-guard.js';
import { AdminTokenError, ensureAdminToken } from './admin-token.js';

describe('admin guard', () => {
  it('loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
    for (const a of ['0.0.0.0', '::', '10.0.0.5', '::ffff:10.0.0.5', '128.0.0.1', 'localhost.example']) assert.equal(isLoopback(a), false, a);
    assert.equal(adminAddressWarning({ address: '127.0.0.1' }), undefined);
    assert.match(adminAddressWarning({ address: '::' })!, /not loopback and serves no TLS \(admin.tls is not set\).*allowedHosts/);
    assert.match(adminAddressWarning({ address: '::', tls: {} })!, /^admin.address :: is not loopback: .*allowedHosts$/, 'with TLS only the names remain');
    assert.equal(adminAddressWarning({ address: '10.0.0.5', tls: {} }), undefined);
  });

  it('Host: own address and loopback names at the port, allowedHosts by name or name:port', () => {
    const v4 = allowedHosts({ address: '127.0.0.1', port: 9090 }, ['gw.lab.example', 'proxy.lab.example:8443']);
    for (const h of ['127.0.0.1:9090', 'localhost:9090', '[::1]:9090', 'gw.lab.example', 'gw.lab.example:1', 'GW.lab.example:9090', 'proxy.lab.example:8443']) assert.equal(hostAllowed(h, v4), true, h);
    for (const h of [undefined, '', 'evil.example:9090', '127.0.0.1:9091', '127.0.0.1', 'proxy.lab.example:9090', 'proxy.lab.example', '127.0.0.1:9090@evil', '127.0.0.1:9090 ', 'a b:9090']) assert.equal(hostAllowed(h, v4), false, String(h));
    const v6 = allowedHosts({ address: '::1', port: 9090 }, []);
    assert.equal(hostAllowed('[::1]:9090', v6), true);
    const any = allowedHosts({ address: '0.0.0.0', port: 9090 }, []);
    assert.equal(hostAllowed('0.0.0.0:9090', any), false, 'an unspecified address is no name');
    assert.equal(hostAllowed('127.0.0.1:9090', any), true);
  });

  it('Origin: absent or the same origin', () => {
    assert.equal(originAllowed(undefined, '127.0.0.1:9090'), true);
    assert.equal(originAllowed('http://127.0.0.1:9090', '127.0.0.1:9090'), true);
    assert.equal(originAllowed('http://LOCALHOST:9090', 'localhost:9090'), true);
    for (const o of ['null', 'https://127.0.0.1:9090', 'http://127.0.0.1:9091', 'http://evil.example', 'http://127.0.0.1:9090, http://evil.example', '']) assert.equal(originAllowed(o, '127.0.0.1:9090'), false, o);
  });

  it('Bearer token and JSON bodies', () => {
    const d = tokenDigest('t'.repeat(43));
    assert.equal(bearerMatches(`Bearer ${'t'.repeat(43)}`, d), true);
    assert.equal(bearerMatches(`bearer  ${'t'.repeat(43)}`, d), true);
    for (const a of [undefined, '', 'Bearer', `Bearer ${'t'.repeat(42)}`, `Bearer ${'t'.repeat(44)}`, 't'.repeat(43), `Basic ${'t'.repeat(43)}`]) assert.equal(bearerMatches(a, d), false, String(a));
    assert.equal(isJson('application/json'), true);
    assert.equal(isJson('Application/JSON; charset=utf-8'), true);
    for (const t of [undefined, 'text/plain', 'application/json-patch+json', 'application/x-www-form-urlencoded']) assert.equal(isJson(t), false, String(t));
  });

  it('checks in order: target, Host, Origin, token, Content-Type', () => {
    const allowed = allowedHosts({ address: '127.0.0.1', port: 9090 }, []);
    const d = tokenDigest('k'.repeat(40));
    const ok = { host: '127.0.0.1:9090', authorization: `Bearer ${'k'.repeat(40)}`, 'content-type': 'application/json' };
    const status = (method: string, url: string, headers: Record<string, string>) => checkRequest({ method, url, headers }, allowed, d)?.status;
    assert.equal(status('POST', '/api/revoke', ok), undefined);
    assert.equal(status('GET', '//x', ok), 400);
    assert.equal(status('POST', '/api/revoke', { ...ok, host: 'evil.example:9090' }), 421);
    assert.equal(status('POST', '/api/revoke', { ...ok, origin: 'https://evil.example' }), 403);
    assert.equal(status('POST', '/api/revoke', { ...ok, authorization: '' }), 401);
    assert.equal(status('POST', '/api/revoke', { ...ok, 'content-type': 'text/plain' }), 415);
    assert.equal(status('GET', '/api/connections', { host: ok.host, authorization: ok.authorization }), undefined);
  });
});

describe('admin token file', () => {
  const dir = () => mkdtempSync(path.join(os.tmpdir(), 'portcullis-admin-token-'));

  it('generated once (0600, 43 base64url characters), then read', () => {
    const file = path.join(dir(), 'sub', 'admin.token');
    const first = ensureAdminToken(file);
    assert.equal(first.created, true);
    assert.match(first.value, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(first.warnings, []);
    const second = ensureAdminToken(file);
    assert.equal(second.created, false);
    assert.equal(second.value, first.value);
    assert.equal(readFileSync(file, 'utf8'), `${first.value}\n`);
  });

  it('empty, short or several words: refused; readable by others: a warning', () => {
    const d = dir();
    for (const [text, why] of [['', /is empty/], ['  \n', /is empty/], ['x'.repeat(31), /too short/], [`${'x'.repeat(20)} ${'y'.repeat(20)}`, /more than one/]] as const) {
      const file = path.join(d, `t${text.length}`);
      writeFileSync(file, text, { mode: 0o600 });
      assert.throws(() => ensureAdminToken(file), (e: Error) => e instanceof AdminTokenError && why.test(e.message) && e.message.includes(file) && !e.message.includes('\n'));
    }
    const open = path.join(d, 'open');
    writeFileSync(open, 'z'.repeat(40), { mode: 0o644 });
    assert.match(ensureAdminToken(open).warnings[0]!, /group or others \(mode 0644\).*chmod 600/);
  });
});

it('the console over plain HTTP is named: its cookie reaches every web server on the host, whatever the port', () => {
  assert.match(consoleCookieWarning({ console: {} })!, /^admin\.console serves over plain HTTP \(admin\.tls is not set\)/);
  assert.equal(consoleCookieWarning({ console: {}, tls: {} }), undefined);
  assert.equal(consoleCookieWarning({}), undefined, 'no console, no cookie');
});
