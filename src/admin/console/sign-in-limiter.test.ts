import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignInLimiter } from './sign-in-limiter.js';

describe('console sign-in limiter', () => {
  it('refuses an account after perAccount failures within the window, and lets it try again after', () => {
    let t = 0;
    const l = new SignInLimiter({ perAccount: 3, perAddress: 100, windowMs: 1000 }, () => t);
    for (let i = 0; i < 3; i++) {
      assert.equal(l.blocked('op', `10.0.0.${i}`), undefined);
      l.failed('OP', `10.0.0.${i}`);
    }
    assert.equal(l.blocked('op', '10.0.0.9'), 'account-limited', 'case-insensitive, from any address');
    t = 1001;
    assert.equal(l.blocked('op', '10.0.0.9'), undefined);
  });
  it('refuses an address after perAddress failures over any accounts (a spray)', () => {
    const l = new SignInLimiter({ perAccount: 100, perAddress: 4, windowMs: 60_000 });
    for (let i = 0; i < 4; i++) l.failed(`user${i}`, '192.0.2.7');
    assert.equal(l.blocked('someone-else', '192.0.2.7'), 'address-limited');
    assert.equal(l.blocked('someone-else', '192.0.2.8'), undefined);
  });
  it('a success clears the account but not the address', () => {
    const l = new SignInLimiter({ perAccount: 2, perAddress: 3, windowMs: 60_000 });
    l.failed('op', 'a');
    l.failed('op', 'a');
    l.succeeded('op');
    assert.equal(l.blocked('op', 'b'), undefined);
    l.failed('x', 'a');
    assert.equal(l.blocked('op', 'a'), 'address-limited');
  });
});
