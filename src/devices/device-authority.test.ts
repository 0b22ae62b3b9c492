import assert from 'node:assert/strict';
import { it } from 'node:test';
import pino from 'pino';
import { type DeviceChangedEvent, events, on } from '../events.js';
import type { DeviceChange } from '../state/device-store.js';
import { MemoryDeviceStore } from '../state/memory-device-store.js';
import { DeviceAuthority } from './device-authority.js';

it('operator changes reach the mirror, the hook (which closes connections) and the record with the actor; a new device is recorded once', async () => {
  const changes: DeviceChange[] = [];
  const heard: DeviceChangedEvent[] = [];
  const off = on(events.deviceChanged, (e) => heard.push(e));
  const a = new DeviceAuthority(new MemoryDeviceStore(), pino({ level: 'silent' }), { onChange: (c) => (changes.push(c), c.kind === 'put' && c.record.state === 'blocked' ? 2 : 0) });
  try {
    await a.start();
    const q = await a.admitNew('LAB\\dave', { id: 'P1', type: 'iPhone' }, { autoApprove: 0, maxPending: 5 });
    assert.equal(q?.state, 'quarantined');
    assert.equal((await a.admitNew('LAB\\dave', { id: 'p1', type: 'iPhone' }, { autoApprove: 0, maxPending: 5 }))?.state, 'quarantined', 'known: from the mirror');
    const b = await a.set('LAB\\dave', 'P1', undefined, 'blocked', 'admin:ops');
    assert.deepEqual([b.record.state, b.record.type, b.closed], ['blocked', 'iPhone', 2]);
    assert.equal(a.registry.get('lab\\dave', 'p1')?.state, 'blocked');
    assert.deepEqual(await a.remove('LAB\\dave', 'nothing', 'admin:ops'), { removed: undefined, closed: 0 });
    assert.equal((await a.remove('LAB\\dave', 'p1', 'admin:ops')).removed?.id, 'P1');
    assert.equal(a.registry.get('LAB\\dave', 'P1'), undefined);
    assert.deepEqual(changes.map((c) => (c.kind === 'put' ? `${c.kind} ${c.record.state}` : c.kind)), ['put quarantined', 'put blocked', 'remove']);
    assert.deepEqual(heard.map((e) => [e.state, e.actor, e.connectionsClosed, e.deviceType]), [['quarantined', 'quarantine', 0, 'iPhone'], ['blocked', 'admin:ops', 2, 'iPhone'], ['removed', 'admin:ops', 0, 'iPhone']]);
  } finally {
    off();
    await a.close();
  }
});
