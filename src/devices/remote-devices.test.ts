import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { DeviceRecord } from '../state/device-store.js';
import { type DeviceAdmitRequest, RemoteDevices } from './remote-devices.js';

const rec: DeviceRecord = { user: 'LAB\\dave', id: 'P1', type: 'iPhone', state: 'quarantined', firstSeen: 1, changedAt: 1, actor: 'quarantine' };
const rule = { autoApprove: 0, maxPending: 10 };

it("a worker's admission: the primary's answer lands in the replica; a known device is not asked again", async () => {
  const sent: DeviceAdmitRequest[] = [];
  const r = new RemoteDevices((m) => sent.push(m));
  const p = r.admitNew('LAB\\dave', { id: 'P1', type: 'iPhone' }, rule);
  assert.deepEqual(sent.map((m) => [m.user, m.device.id, m.rule]), [['LAB\\dave', 'P1', rule]]);
  r.answered(sent[0]!.id, rec);
  assert.deepEqual(await p, rec);
  assert.equal(r.registry.get('lab\\DAVE', 'p1')?.state, 'quarantined');
  assert.deepEqual(await r.admitNew('LAB\\dave', { id: 'p1', type: 'iPhone' }, rule), rec);
  assert.equal(sent.length, 1);
});

it('a failed or unanswered admission rejects (the gate refuses, and an approval in flight keeps its place)', async () => {
  const sent: DeviceAdmitRequest[] = [];
  const r = new RemoteDevices((m) => sent.push(m), 50);
  const failed = r.admitNew('LAB\\dave', { id: 'P2', type: 'iPhone' }, rule);
  r.answered(sent[0]!.id, null, true);
  await assert.rejects(failed, /could not record/);
  await assert.rejects(r.admitNew('LAB\\dave', { id: 'P3', type: 'iPhone' }, rule), /did not answer/);
  r.answered(sent[1]!.id, rec); // late: ignored by the caller, still applied to the replica
  assert.equal(r.registry.get('LAB\\dave', 'P1')?.state, 'quarantined');
});
