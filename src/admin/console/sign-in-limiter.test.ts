import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignInLimiter } from './sign-in-limiter.js';

describe('console sign-in limiter', () => {
  it('refuses an account at one address after perAccount failures within the window, and lets it try again after', () => {
    let t = 0;
    const l = new SignInLimiter({ perAccount: 3, perAddress: 100, windowMs: 1000 }, () => t);
    for (let i = 0; i < 3; i++) {
      assert.equal(l.blocked('op', '10.0.0.1'), undefined);
      l.failed('OP', '10.0.0.1');
    }
    assert.equal(l.blocked('op', '10.0.0.1'), 'account-limited', 'case-insensitive');
    t = 1001;
    assert.equal(l.blocked('op', '10.0.0.1'), undefined);
  });

  it('guessing one account from many addresses is bounded at 5 × perAccount in all', () => {
    const l = new SignInLimiter({ perAccount: 3, perAddress: 100, windowMs: 60_000 });
    for (let i = 0; i < 15; i++) {
      assert.equal(l.blocked('op', `10.0.1.${i}`), undefined, `attempt ${i + 1}`);
      l.failed('op', `10.0.1.${i}`);
    }
    assert.equal(l.blocked('op', '10.0.1.99'), 'account-limited', 'a new address too');
  });

  it("an attacker cannot lock the operator out: the operator's familiar address keeps its own count", () => {
    const l = new SignInLimiter({ perAccount: 3, perAddress: 100, windowMs: 60_000 });
    l.succeeded('op', '192.0.2.10'); // the operator's workstation, signed in before
    for (let i = 0; i < 40; i++) l.failed('op', `10.0.2.${i % 20}`);
    assert.equal(l.blocked('op', '10.0.2.50'), 'account-limited', 'the attacker is stopped');
    assert.equal(l.blocked('op', '192.0.2.10'), undefined, 'the operator signs in');
    l.failed('op', '192.0.2.10');
    l.failed('op', '192.0.2.10');
    assert.equal(l.blocked('op', '192.0.2.10'), undefined);
    l.failed('op', '192.0.2.10');
    assert.equal(l.blocked('op', '192.0.2.10'), 'account-limited', 'but its own typos still count');
  });

  it('refuses an address after perAddress failures over any accounts (a spray)', () => {
    const l = new SignInLimiter({ perAccount: 100, perAddress: 4, windowMs: 60_000 });
    for (let i = 0; i < 4; i++) l.failed(`user${i}`, '192.0.2.7');
    assert.equal(l.blocked('someone-else', '192.0.2.7'), 'address-limited');
    assert.equal(l.blocked('someone-else', '192.0.2.8'), undefined);
  });

  it('a success clears the account at that address, but not the address', () => {
    const l = new SignInLimiter({ perAccount: 2, perAddress: 3, windowMs: 60_000 });
    l.failed('op', 'a');
    l.failed('op', 'a');
    assert.equal(l.blocked('op', 'a'), 'account-limited');
    l.succeeded('op', 'a');
    assert.equal(l.blocked('op', 'a'), undefined);
    l.failed('x', 'a');
    assert.equal(l.blocked('op', 'a'), 'address-limited');
  });
});
