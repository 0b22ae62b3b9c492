import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConnectionContext } from '../forward/connection-context.js';
import type { GateRequest, GateVerdict } from '../forward/gate.js';
import type { DeviceRecord } from '../state/device-store.js';
import { DeviceGate, judgeDevice } from './device-gate.js';
import { DeviceRegistry } from './device-registry.js';
import { withdrawDevices } from './withdraw-devices.js';
import type { DevicesConfig } from './devices-schema.js';

const rec = (user: string, id: string, state: DeviceRecord['state']): DeviceRecord => ({ user, id, type: 'iPhone', state, firstSeen: 1, changedAt: 1, actor: 'admin' });
const entry = (key: string) => ({ key }) as unknown as NonNullable<ConnectionContext['identity']>['entry'];

describe('judgeDevice', () => {
  const table: Array<[DevicesConfig['mode'], DeviceRecord['state'] | undefined, string]> = [
    ['any', undefined, 'allow'],
    ['any', 'quarantined', 'allow'],
    ['any', 'blocked', 'device-blocked'],
    ['allow-list', undefined, 'device-not-allowed'],
    ['allow-list', 'approved', 'allow'],
    ['allow-list', 'quarantined', 'device-quarantined'],
    ['allow-list', 'blocked', 'device-blocked'],
    ['quarantine', undefined, 'device-quarantined'],
    ['quarantine', 'approved', 'allow'],
    ['quarantine', 'blocked', 'device-blocked'],
  ];
  for (const [mode, state, want] of table) {
    it(`${mode}, ${state ?? 'unknown'}: ${want}`, () => assert.equal(judgeDevice(mode, state ? rec('LAB\\dave', 'X', state) : undefined), want));
  }
});

describe('withdrawDevices', () => {
  const live = (user: string | undefined, id: string | undefined) => {
    const c = { device: id ? { id, type: 'iPhone' } : undefined, identity: user ? { kind: 'user' as const, entry: entry(user), via: 'Basic' as const, at: 0 } : undefined, pending: undefined, closed: '' };
    return { ...c, close(cause: string, detail?: string) { c.closed = `${cause}: ${detail}`; this.closed = c.closed; } };
  };

  it("closes only the changed device's connections, not the user's other device or another user's device of that id", () => {
    const reg = new DeviceRegistry();
    const a = live('LAB\\dave', 'PHONE');
    const b = live('LAB\\dave', 'tablet');
    const c = live('LAB\\erin', 'phone');
    const d = live(undefined, 'phone');
    reg.apply({ kind: 'put', record: rec('lab\\DAVE', 'phone', 'blocked') });
    assert.equal(withdrawDevices([a, b, c, d], 'any', reg, { kind: 'put', record: rec('lab\\DAVE', 'phone', 'blocked') }), 1);
    assert.match(a.closed, /^access-withdrawn: device-blocked: device PHONE of LAB\\dave$/);
    assert.deepEqual([b.closed, c.closed, d.closed], ['', '', '']);
  });

  it('a quarantined record withdraws nothing; a removal does in quarantine mode, not in mode any; a reload judges unknown devices too', () => {
    const reg = new DeviceRegistry();
    const a = live('LAB\\dave', 'new1');
    reg.apply({ kind: 'put', record: rec('LAB\\dave', 'new1', 'quarantined') });
    assert.equal(withdrawDevices([a], 'quarantine', reg, { kind: 'put', record: rec('LAB\\dave', 'new1', 'quarantined') }), 0);
    reg.apply({ kind: 'remove', user: 'LAB\\dave', id: 'NEW1' });
    assert.equal(withdrawDevices([a], 'any', reg, { kind: 'remove', user: 'LAB\\dave', id: 'NEW1' }), 0);
    assert.equal(withdrawDevices([a], 'quarantine', reg, { kind: 'resync', records: [] }), 0, 'a resync judges only what the store names');
    assert.equal(withdrawDevices([a], 'allow-list', reg, 'all'), 1);
    assert.match(a.closed, /device-not-allowed/);
  });
});

describe('DeviceGate', () => {
  const ctx = (o: Partial<ConnectionContext>): ConnectionContext => ({ identity: undefined, pending: undefined, claim: undefined, ...o }) as ConnectionContext;
  const req = (auth?: string): GateRequest => ({ protocol: 'eas', path: '/microsoft-server-activesync', device: { id: 'Dev1', type: 'iPhone' }, head: { method: 'POST', target: '/x', version: '1.1', headers: auth ? [{ name: 'Authorization', value: auth }] : [] } }) as unknown as GateRequest;
  const gate = (mode: DevicesConfig['mode'], registry = new DeviceRegistry(), admitted: DeviceRecord[] = []) =>
    new DeviceGate(() => ({ mode, autoApprove: 0, maxPending: 10 }), {
      registry,
      admitNew: async (user, d) => {
        const r = rec(user, d.id, 'quarantined');
        admitted.push(r);
        return r;
      },
    });
  const reason = (v: GateVerdict) => (v.allow ? 'allow' : v.reason);

  it('an anonymous request passes (Exchange answers 401); credentials that name no directory user are refused outside mode any', async () => {
    assert.equal(reason(await gate('quarantine').check(ctx({}), req(), [])), 'allow');
    const ntlmNegotiate = `NTLM ${Buffer.from('4e544c4d5353500001000000978208e2000000000000000000000000000000000a00614a0000000f', 'hex').toString('base64')}`;
    assert.equal(reason(await gate('quarantine').check(ctx({}), req(ntlmNegotiate), [])), 'allow', 'an NTLM NEGOTIATE leg names nobody');
    assert.equal(reason(await gate('quarantine').check(ctx({}), req('Digest username="x"'), [])), 'device-not-allowed', 'credentials of a scheme the gateway cannot tie to a user');
    const kerberos = ctx({ pending: { kind: 'kerberos', via: 'Kerberos', at: 0 } });
    assert.equal(reason(await gate('quarantine').check(kerberos, req('Negotiate YII='), [])), 'device-not-allowed');
    assert.equal(reason(await gate('any').check(kerberos, req('Negotiate YII='), [])), 'allow');
  });

  it('a request an earlier gate strips of its credentials is no device\'s: it passes, and nothing is recorded', async () => {
    const admitted: DeviceRecord[] = [];
    const v = await gate('quarantine', new DeviceRegistry(), admitted).check(ctx({}), req('Basic eDp5'), [{ allow: true, stripAuthorization: true }]);
    assert.equal(reason(v), 'allow');
    assert.deepEqual(admitted, []);
  });

  it('a blocked device is refused with 403 in mode any, judged from the mirror without waiting', () => {
    const reg = new DeviceRegistry();
    reg.apply({ kind: 'put', record: rec('LAB\\dave', 'DEV1', 'blocked') });
    const v = gate('any', reg).check(ctx({ pending: { kind: 'user', entry: entry('LAB\\dave'), via: 'Basic', at: 0 } }), req('Basic eDp5'), []);
    assert.ok(!(v instanceof Promise));
    assert.deepEqual([v.allow, !v.allow && v.status, reason(v)], [false, 403, 'device-blocked']);
  });

  it('an unknown device of an unproven user in quarantine is recorded and refused', async () => {
    const admitted: DeviceRecord[] = [];
    const v = await gate('quarantine', new DeviceRegistry(), admitted).check(ctx({ pending: { kind: 'user', entry: entry('LAB\\dave'), via: 'Basic', at: 0 } }), req('Basic eDp5'), []);
    assert.equal(reason(v), 'device-quarantined');
    assert.deepEqual(admitted.map((r) => [r.user, r.id]), [['LAB\\dave', 'Dev1']]);
  });
});

describe('DeviceGate: the password is checked by Exchange before a device is refused', () => {
  const dave = { kind: 'user' as const, entry: entry('LAB\\dave'), via: 'Basic' as const, at: 0 };
  const req = (auth: string): GateRequest => ({ protocol: 'eas', path: '/microsoft-server-activesync', device: { id: 'Dev1', type: 'iPhone' }, head: { method: 'POST', target: '/x', version: '1.1', headers: [{ name: 'Host', value: 'mail.lab.example' }, { name: 'Authorization', value: auth }] } }) as unknown as GateRequest;
  /** The access gate's verdict for an unproven Basic login: a 2xx proves (binds dave), a 401 is a failure. */
  const accessVerdict = (c: ConnectionContext, seen: number[]): GateVerdict => ({
    allow: true,
    decision: { allow: true, reasons: ['group-ok'] },
    onResponse: (h) => {
      seen.push(h.status);
      if (h.status === 200) (c as { identity: unknown }).identity = dave;
      return { pass: true };
    },
  });
  const setup = (status: number | undefined, registry = new DeviceRegistry()) => {
    const admitted: DeviceRecord[] = [];
    const probed: string[] = [];
    const g = new DeviceGate(
      () => ({ mode: 'quarantine', autoApprove: 0, maxPending: 10 }),
      {
        registry,
        admitNew: async (user, d) => {
          const r = rec(user, d.id, 'quarantined');
          admitted.push(r);
          return r;
        },
      },
      async (authorization, host) => {
        probed.push(`${host} ${authorization}`);
        return status === undefined ? undefined : { version: '1.1', status, reason: '', headers: [] };
      },
    );
    const c = { identity: undefined, pending: dave, claim: undefined } as unknown as ConnectionContext;
    const seen: number[] = [];
    return { g, c, admitted, probed, seen, earlier: [accessVerdict(c, seen)] };
  };

  it('a wrong password: Exchange gets the request without credentials (its own 401, as for a user who does not exist); nothing is recorded', async () => {
    const { g, c, admitted, probed, seen, earlier } = setup(401);
    const v = await g.check(c, req('Basic ZGF2ZTp3cm9uZw=='), earlier);
    assert.ok(v.allow && v.stripAuthorization === true);
    assert.deepEqual(v.allow && v.concealed?.reasons, ['bad-password', 'device-quarantined']);
    assert.deepEqual(probed, ['mail.lab.example Basic ZGF2ZTp3cm9uZw==']);
    assert.deepEqual([admitted, seen], [[], []], "the anonymous request's 401 is the one the access gate counts");
  });

  it('the right password: proven by the access gate on the check, then the device is recorded and refused with 403', async () => {
    const { g, c, admitted, seen, earlier } = setup(200);
    const v = await g.check(c, req('Basic ZGF2ZTpyaWdodA=='), earlier);
    assert.equal(v.allow ? 'allow' : `${v.status} ${v.reason}`, '403 device-quarantined');
    assert.deepEqual(seen, [200]);
    assert.deepEqual(admitted.map((r) => r.id), ['Dev1']);
  });

  it('a blocked device: 403 only to its owner; a guess gets the anonymous 401', async () => {
    const reg = new DeviceRegistry();
    reg.apply({ kind: 'put', record: rec('LAB\\dave', 'Dev1', 'blocked') });
    const wrong = setup(401, reg);
    const w = await wrong.g.check(wrong.c, req('Basic ZGF2ZTp3cm9uZw=='), wrong.earlier);
    assert.ok(w.allow && w.stripAuthorization);
    const right = setup(200, reg);
    const r = await right.g.check(right.c, req('Basic ZGF2ZTpyaWdodA=='), right.earlier);
    assert.equal(r.allow ? 'allow' : `${r.status} ${r.reason}`, '403 device-blocked');
  });

  it('Exchange cannot be asked, or answers something that proves nothing: on without credentials (what anyone gets from Exchange now), nothing recorded', async () => {
    for (const status of [undefined, 500, 302]) {
      const { g, c, admitted, seen } = setup(status);
      let withdrawn = 0;
      const access: GateVerdict = { allow: true, decision: { allow: true, reasons: ['group-ok'] }, onResponse: (h) => (seen.push(h.status), { pass: true }), withdraw: () => void withdrawn++ };
      const v = await g.check(c, req('Basic ZGF2ZTpyaWdodA=='), [access]);
      assert.ok(v.allow && v.stripAuthorization, String(status));
      assert.deepEqual([withdrawn, admitted, seen], [1, [], []], String(status));
    }
  });

  it("an NTLM AUTHENTICATE (not checkable apart from its command) goes on without credentials; the access gate lets go of the attempt", async () => {
    const { g, c, admitted, probed, seen } = setup(200);
    let withdrawn = 0;
    const access: GateVerdict = { allow: true, decision: { allow: true, reasons: ['group-ok'] }, onResponse: (h) => (seen.push(h.status), { pass: true }), withdraw: () => void withdrawn++ };
    const ntlmAuth = `NTLM ${Buffer.from('TlRMTVNTUAADAAAAGAAYAEAAAAAYABgAWAAAAAYABgBwAAAACAAIAHYAAAAIAAgAfgAAAAAAAACGAAAABYKIogAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEwAQQBCAGQAYQB2AGUAVwBTADAAMQA=', 'base64').toString('base64')}`;
    const v = await g.check(c, req(ntlmAuth), [access]);
    assert.ok(v.allow && v.stripAuthorization, JSON.stringify(v));
    assert.deepEqual([withdrawn, probed, admitted, seen], [1, [], [], []]);
  });

  it('a connection that proved dave already is judged at once, without asking Exchange', async () => {
    const { g, c, probed, earlier } = setup(200);
    (c as { identity: unknown }).identity = dave;
    const v = await g.check(c, req('Basic ZGF2ZTpyaWdodA=='), earlier);
    assert.equal(v.allow ? 'allow' : v.reason, 'device-quarantined');
    assert.deepEqual(probed, []);
  });
});

describe('DeviceGate auto-approval', () => {
  it('forwards an unknown device while a free approval exists, approves it only on a proven 2xx, and a store outage keeps the place taken', async () => {
    const calls: string[] = [];
    let fail = true;
    const registry = new DeviceRegistry();
    const g = new DeviceGate(() => ({ mode: 'quarantine', autoApprove: 1, maxPending: 10 }), {
      registry,
      admitNew: async (user, d, rule) => {
        calls.push(`${d.id}:${rule.autoApprove}`);
        if (fail && rule.autoApprove > 0) throw new Error('store down');
        return rec(user, d.id, rule.autoApprove > 0 ? 'approved' : 'quarantined');
      },
    });
    const dave = { kind: 'user' as const, entry: entry('LAB\\dave'), via: 'Basic' as const, at: 0 };
    const c = { identity: undefined, pending: dave, claim: undefined } as unknown as ConnectionContext;
    const r = (id: string) => ({ protocol: 'eas', path: '/x', device: { id, type: 'iPhone' }, head: { method: 'POST', target: '/x', version: '1.1', headers: [{ name: 'Authorization', value: 'Basic eDp5' }] } }) as unknown as GateRequest;
    const first = g.check(c, r('A1'), []) as GateVerdict;
    assert.ok(first.allow && first.onResponse, 'forwarded for approval');
    // A 401 (wrong password) approves nothing and frees the place.
    first.onResponse({ status: 401 } as never);
    assert.deepEqual(calls, []);
    const again = g.check(c, r('A1'), []) as GateVerdict;
    assert.ok(again.allow);
    // Proven (the access gate bound dave), but the store is down: not approved, the place stays taken.
    (c as { identity: unknown }).identity = dave;
    again.onResponse!({ status: 200 } as never);
    again.onSettled!(true);
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(calls, ['A1:1']);
    (c as { identity: unknown }).identity = undefined;
    const other = await g.check(c, r('B2'), []);
    assert.equal(other.allow ? 'allow' : other.reason, 'device-quarantined', 'no second device rides on the unrecorded approval');
    assert.deepEqual(calls, ['A1:1', 'B2:0']);
  });
});
