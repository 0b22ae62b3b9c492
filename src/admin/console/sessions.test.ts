import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionStore, cookieValue, csrfMatches, sessionCookie } from './sessions.js';

describe('console sessions', () => {
  it('end after the idle time-out, and after the absolute one however active', () => {
    let t = 0;
    const store = new SessionStore({ idleMs: 1000, absoluteMs: 5000 }, () => t);
    const s = store.create('op', 'operator', 'local');
    t = 900;
    assert.equal(store.get(s.id)?.login, 'op');
    t = 1800;
    assert.ok(store.get(s.id), 'touched at 900: still within the idle time-out');
    t = 2801;
    assert.equal(store.get(s.id), undefined, 'idle for more than 1 s');
    const a = store.create('op', 'operator', 'local');
    for (t = 3000; t <= 8000; t += 500) {
      if (t - 2801 > 5000) assert.equal(store.get(a.id), undefined);
      else assert.ok(store.get(a.id));
    }
  });
  it('CSRF tokens compare exactly; missing or empty ones never match', () => {
    const store = new SessionStore({ idleMs: 1000, absoluteMs: 5000 });
    const s = store.create('v', 'viewer', 'local');
    assert.equal(csrfMatches(s, s.csrf), true);
    assert.equal(csrfMatches(s, undefined), false);
    assert.equal(csrfMatches(s, ''), false);
    assert.equal(csrfMatches(s, `${s.csrf}x`), false);
  });
  it('cookies: HttpOnly, SameSite=Strict, Secure only over TLS; read back from a Cookie header', () => {
    assert.equal(sessionCookie('abc', false), 'portcullis_console=abc; Path=/console/; HttpOnly; SameSite=Strict');
    assert.match(sessionCookie('abc', true), /; Secure$/);
    assert.match(sessionCookie(undefined, false), /Max-Age=0/);
    assert.equal(cookieValue('a=1; portcullis_console=xyz; b=2', 'portcullis_console'), 'xyz');
    assert.equal(cookieValue(undefined, 'portcullis_console'), undefined);
  });
});
