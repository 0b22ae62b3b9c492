// The small pieces browser sign-in relies on: sealing, destinations, cookies.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CANARY_COOKIES, applySetCookies, jarHeader, withoutGatewayCookies } from './cookie-jar.js';
import { protocolOf, safeDestination } from './destination.js';
import { loadSessionKey, sealWithKey } from './session-seal.js';
import { escapeHtml, signInPage } from './signin-pages.js';

describe('session seal', () => {
  it('opens only with the same key and for the same user', () => {
    const seal = sealWithKey(randomBytes(32));
    const sealed = seal.seal('cadata=secret', 'LAB\\alice');
    assert.doesNotMatch(sealed, /secret/);
    assert.equal(seal.open(sealed, 'lab\\ALICE'), 'cadata=secret');
    assert.equal(seal.open(sealed, 'LAB\\bob'), undefined, 'bound to its user');
    assert.equal(sealWithKey(randomBytes(32)).open(sealed, 'LAB\\alice'), undefined);
    assert.equal(seal.open(`${sealed.slice(0, -2)}AA`, 'LAB\\alice'), undefined, 'tampered');
  });

  it('generates the key file once (0600) and refuses one that holds no key', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-key-'));
    const file = path.join(dir, 'sub', 'signin.key');
    const k = loadSessionKey(file);
    assert.equal(k.length, 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadSessionKey(file), k);
    writeFileSync(file, 'short');
    assert.throws(() => loadSessionKey(file), /does not hold 32 bytes.*openssl rand -base64 32/);
    assert.match(readFileSync(file, 'utf8'), /short/);
  });
});

describe('destination after sign-in', () => {
  it('keeps paths under the signed-in virtual directories, nothing else', () => {
    const ok = ['/owa/', '/owa', '/owa/?path=/mail', '/ecp/PersonalSettings/HomePage.aspx', '/owa/#x'];
    for (const d of ok) assert.equal(safeDestination(d, ['owa', 'ecp']), d);
    const bad = ['https://evil.example/owa/', '//evil.example/owa/', '/%2f%2fevil.example/', '/\\evil', '/owa/../../x', '/owa/%2e%2e/x', 'javascript:alert(1)', '/ews/exchange.asmx', '/owa/\r\nSet-Cookie: x=y', `/owa/${'a'.repeat(3000)}`, '/%E0%A4%A'];
    for (const d of bad) assert.equal(safeDestination(d, ['owa', 'ecp']), '/owa/', d);
    assert.equal(safeDestination('/ecp/', ['owa']), '/owa/', 'only configured virtual directories');
    assert.equal(protocolOf('/ecp/x', ['owa', 'ecp']), 'ecp');
    assert.equal(protocolOf('/owa/', ['owa', 'ecp']), 'owa');
  });
});

describe('cookies', () => {
  it("takes the gateway's cookies out and Exchange's in", () => {
    const h = withoutGatewayCookies(
      [
        { name: 'Host', value: 'mail' },
        { name: 'Cookie', value: '__Host-portcullis-session=abc; lang=en' },
        { name: 'cookie', value: '__Host-portcullis-csrf=x' },
      ],
      'cadata=1; X-OWA-CANARY=2',
    );
    assert.deepEqual(h, [
      { name: 'Host', value: 'mail' },
      { name: 'Cookie', value: 'lang=en; cadata=1; X-OWA-CANARY=2' },
    ]);
    assert.deepEqual(withoutGatewayCookies([{ name: 'Cookie', value: '__Host-portcullis-session=abc' }]), []);
  });

  it("a browser's canary cookie, in any case, goes to Exchange as the gateway holds it", () => {
    const h = withoutGatewayCookies([{ name: 'Cookie', value: 'X-OWA-CANARY=forged; x-owa-canary=forged2;  MSEXCHECPCANARY =f3; lang=en' }], 'cadata=1; X-OWA-CANARY=real', CANARY_COOKIES);
    assert.deepEqual(h, [{ name: 'Cookie', value: 'lang=en; cadata=1; X-OWA-CANARY=real' }]);
  });

  it('keeps renewed cookies and drops expired ones', () => {
    let jar = applySetCookies({}, ['cadata=1; path=/; secure; HttpOnly', 'X-OWA-CANARY=c; path=/']);
    jar = applySetCookies(jar, ['X-OWA-CANARY=d; path=/', 'cadata=; expires=Thu, 01-Jan-1970 00:00:00 GMT; path=/']);
    assert.equal(jarHeader(jar), 'X-OWA-CANARY=d');
  });
});

describe('sign-in page', () => {
  it('escapes what it shows', () => {
    assert.equal(escapeHtml(`<a href="x">'&`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
    const html = signInPage({ organisation: '<script>x</script>', logo: false }, { csrf: 't"', destination: '/owa/"><script>' });
    assert.doesNotMatch(html, /<script>/);
  });
});
