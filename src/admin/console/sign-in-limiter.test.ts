import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignInLimiter } from './sign-in-limiter.js';
import { SignInDevices } from './sign-in-device.js';

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

  it("an attacker cannot lock the operator out, even from the operator's own address: the operator's browser counts apart", () => {
    const l = new SignInLimiter({ perAccount: 3, perAddress: 10, windowMs: 60_000 });
    for (let i = 0; i < 40; i++) l.failed(i % 2 ? 'op' : `user${i}`, '127.0.0.1');
    assert.equal(l.blocked('op', '127.0.0.1'), 'account-limited', 'the attacker is stopped');
    assert.equal(l.blocked('viewer', '127.0.0.1'), 'address-limited', 'and its spray too');
    assert.equal(l.blocked('op', '127.0.0.1', 'dev1'), undefined, "the operator's browser signs in");
    l.failed('op', '127.0.0.1', 'dev1');
    l.failed('op', '127.0.0.1', 'dev1');
    assert.equal(l.blocked('op', '127.0.0.1', 'dev1'), undefined);
    l.failed('op', '127.0.0.1', 'dev1');
    assert.equal(l.blocked('op', '127.0.0.1', 'dev1'), 'account-limited', 'but its own typos still count');
    assert.equal(l.blocked('op', '127.0.0.1', 'dev2'), undefined, 'per device');
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

describe('console device cookie', () => {
  it('proves its device id only for the account it was given to, and only under this process key', () => {
    const d = new SignInDevices();
    const value = /^portcullis_console_device=([^;]+);/.exec(d.cookie('Operator', undefined, false))![1]!;
    const id = d.verify(value, 'operator');
    assert.ok(id && id.length === 22);
    assert.equal(d.verify(value, 'viewer'), undefined, 'another account');
    assert.equal(new SignInDevices().verify(value, 'operator'), undefined, 'another process');
    assert.equal(d.verify(`${id}.${'A'.repeat(43)}`, 'operator'), undefined, 'a forged mac');
    for (const bad of [undefined, '', 'x', `${value}x`, value.replace('.', '')]) assert.equal(d.verify(bad, 'operator'), undefined);
    assert.match(d.cookie('operator', id, true), new RegExp(`^portcullis_console_device=${id}\\.[^;]+; Path=/console/; Max-Age=2592000; HttpOnly; SameSite=Strict; Secure$`));
  });
});
