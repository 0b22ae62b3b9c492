import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFormsSignInPath, withoutExchangeSessionCookies } from './exchange-session-cookies.js';

const cookie = (value: string) => [{ name: 'Host', value: 'x' }, { name: 'Cookie', value }];

describe("Exchange's forms sign-in: paths and cookies a client may not bring", () => {
  it('the forms sign-in paths, canonical form', () => {
    for (const p of ['/owa/auth.owa', '/owa/auth/owaauth.dll', '/exchweb/bin/auth/owaauth.dll', '/ecp/auth.owa', '/owa/auth/expiredpassword.aspx']) assert.equal(isFormsSignInPath(p), true, p);
    for (const p of ['/owa/', '/owa/auth/logon.aspx', '/owa/auth.owa/x', '/owa/logoff.owa', '/ews/exchange.asmx']) assert.equal(isFormsSignInPath(p), false, p);
  });

  const table: Array<[string, string | undefined]> = [
    ['cadata=1', undefined],
    ['cadata=1; cadataKey=2; cadataIV=3; cadataSig=4; cadataTTL=5', undefined],
    ['theme=dark; cadata=1; x=2', 'theme=dark; x=2'],
    ['CADATA=1; Theme=a', 'Theme=a'],
    [' cadata =1;y=2', 'y=2'],
    ['cad%61ta=1; z=3', 'z=3'],
    ['cadata%ZZ=1; z=3', 'z=3'],
    ['cadata; a=b', 'a=b'],
    ['X-OWA-CANARY=abc; PrivateComputer=true', 'X-OWA-CANARY=abc; PrivateComputer=true'],
    ['notcadata=1', 'notcadata=1'],
  ];
  for (const [input, expected] of table) {
    it(`Cookie: ${input} -> ${expected ?? '(no Cookie field)'}`, () => {
      const out = withoutExchangeSessionCookies(cookie(input));
      assert.deepEqual(out.find((f) => f.name === 'Cookie')?.value, expected);
      assert.deepEqual(out[0], { name: 'Host', value: 'x' });
    });
  }

  it('every Cookie field is cleaned, and nothing changes (same array) without such a cookie', () => {
    const two = [{ name: 'cookie', value: 'a=1' }, { name: 'COOKIE', value: 'cadata=2' }];
    assert.deepEqual(withoutExchangeSessionCookies(two), [{ name: 'cookie', value: 'a=1' }]);
    const none = cookie('a=1');
    assert.equal(withoutExchangeSessionCookies(none), none);
  });
});
