// Issue 15, ActiveSync devices: the gateway reads DeviceId and DeviceType from both query forms of
// MS-ASHTTP, judges the device before a byte reaches Exchange, and cuts a blocked device's live
// Ping. The device id is the attacker's to choose, so most cases here try to get a blocked or
// unapproved device past the gateway: two DeviceIds, an escaped parameter name, the other query
// form, another spelling, extra headers. The lab answers with the device it served (X-Lab-Device).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { after, before, describe, it } from 'node:test';
import { RawClient } from '../src/doctor/http-probe.js';
import { adminHeaders, type Env, startEnv } from './helpers/env.js';
import { easBase64 } from './helpers/eas-query.js';
import { consoleSection, signIn } from './helpers/console-client.js';
import { NEGOTIATE, authenticateFor } from '../src/doctor/ntlm-client.js';

const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const EAS = '/Microsoft-Server-ActiveSync';
const plain = (id: string, cmd = 'Sync', type = 'iPhone') => `Cmd=${cmd}&User=dave&DeviceId=${id}&DeviceType=${type}`;
const headers = (user = 'LAB\\dave', password?: string) => ({ Authorization: basic(user, password), 'MS-ASProtocolVersion': '14.1', 'Content-Type': 'application/vnd.ms-sync.wbxml' });

async function eas(env: Env, query: string, o: { user?: string; password?: string; extra?: Record<string, string> } = {}) {
  const c = await RawClient.connect(env.port, env.pki.ca);
  try {
    return await c.request('POST', `${EAS}?${query}`, { ...headers(o.user, o.password), ...o.extra }, '');
  } finally {
    c.close();
  }
}

/** A Ping the lab holds (its heartbeat is longer than the test): the connection stays open. */
async function heldPing(env: Env, query: string): Promise<RawClient> {
  const c = await RawClient.connect(env.port, env.pki.ca);
  c.write(`POST ${EAS}?${query} HTTP/1.1\r\nHost: x\r\n${Object.entries(headers()).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Content-Length: 0\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(c.closed, false, 'the Ping is held');
  return c;
}

async function admin(env: Env, path: string, body?: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${env.runtime.admin!.url}${path}`, body ? { method: 'POST', headers: adminHeaders(env), body: JSON.stringify({ actor: 'ops', ...body }) } : { headers: adminHeaders(env) });
  return { status: res.status, body: await res.json() };
}

/** What reached Exchange's ActiveSync naming a device: the gateway's password check (OPTIONS) names none and runs no command. */
const labSaw = (env: Env, from: number) => env.lab.state.log.slice(from).filter((e) => e.path.toLowerCase().includes('activesync') && e.method !== 'OPTIONS');
const labChecks = (env: Env, from: number) => env.lab.state.log.slice(from).filter((e) => e.path.toLowerCase().includes('activesync') && e.method === 'OPTIONS');

describe('ActiveSync devices: quarantine', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ lab: { eas: { maxPingMs: 60_000 } }, config: (b) => ({ ...b, devices: { mode: 'quarantine' }, audit: { level: 'requests' } }) });
  });
  after(() => env.stop());

  it('a new device is refused with 403 device-quarantined, listed for approval, and syncs once approved', async () => {
    const before = env.lab.state.log.length;
    const r = await eas(env, plain('ApplQ1'));
    assert.equal(r.head.status, 403);
    assert.equal(r.header('x-portcullis-reason'), 'device-quarantined');
    assert.equal(labSaw(env, before).length, 0, 'Exchange never saw the quarantined device');
    assert.equal(labChecks(env, before).length, 1, "Exchange checked dave's password once (OPTIONS) before the device was refused");
    const listed = await admin(env, '/api/devices?user=LAB%5Cdave');
    assert.deepEqual(listed.body.map((d: any) => [d.user, d.id, d.type, d.state, d.actor]), [['LAB\\dave', 'ApplQ1', 'iPhone', 'quarantined', 'quarantine']]);
    assert.equal((await eas(env, plain('ApplQ1'))).head.status, 403, 'still quarantined');
    const ok = await admin(env, '/api/devices/approve', { user: 'dave@lab.example', device: 'applq1' });
    assert.equal(ok.status, 200);
    assert.deepEqual([ok.body.device.id, ok.body.device.state, ok.body.device.actor], ['ApplQ1', 'approved', 'admin:ops']);
    const synced = await eas(env, plain('ApplQ1'));
    assert.equal(synced.head.status, 200);
    assert.equal(synced.header('x-lab-device'), 'ApplQ1/iPhone');
    assert.equal(synced.header('x-lab-identity'), 'LAB\\dave');
  });

  it('a wrong password on a new device gets the answer of a user who does not exist: no 403, no record of the device', async () => {
    const answer = async (user: string, password: string, id: string) => {
      const r = await eas(env, plain(id), { user: `LAB\\${user}`, password });
      const names = r.head.headers.map((h) => h.name.toLowerCase()).filter((n) => n !== 'date').sort();
      return { status: r.head.status, names, body: r.body.toString('latin1'), reason: r.header('x-portcullis-reason') };
    };
    const before = env.lab.state.log.length;
    const guess = await answer('dave', 'Summer2026!', 'GuessDev1');
    const nobody = await answer('nobody', 'Summer2026!', 'GuessDev1');
    assert.equal(guess.status, 401);
    assert.equal(guess.reason, undefined, 'no word on the device');
    assert.deepEqual(guess, nobody, 'the same answer as for a user who does not exist');
    assert.equal(labSaw(env, before).filter((e) => e.authorization !== undefined).length, 0, 'no command reached Exchange with credentials');
    const listed = await admin(env, '/api/devices?user=LAB%5Cdave');
    assert.ok(!listed.body.some((d: any) => d.id === 'GuessDev1'), 'a guess records no device');
    await env.runtime.audit!.writer.flush();
    const rows = await env.runtime.audit!.writer.store.query({ user: 'dave' });
    const line = rows.find((r) => r.event === 'denied' && r.deviceId === 'GuessDev1');
    assert.deepEqual(line?.reasons, ['bad-password', 'device-quarantined'], 'the record says what happened');
  });

  it('the base64 query form names the same device: refused while new, allowed once approved in the plain form', async () => {
    const q = easBase64({ command: 0, id: 'B64dev', type: 'SmartPhone', params: [[8, 'dave']] });
    assert.equal((await eas(env, q)).header('x-portcullis-reason'), 'device-quarantined');
    await admin(env, '/api/devices/approve', { user: 'LAB\\dave', device: 'B64DEV' });
    const r = await eas(env, encodeURIComponent(q));
    assert.equal(r.head.status, 200);
    assert.equal(r.header('x-lab-device'), 'B64dev/SmartPhone');
  });

  it('malformed or ambiguous queries are refused with 400 activesync-query-malformed and never reach Exchange', async () => {
    await admin(env, '/api/devices/approve', { user: 'LAB\\dave', device: 'GoodDev' });
    const before = env.lab.state.log.length;
    for (const q of [
      'Cmd=Sync&DeviceId=GoodDev&DeviceId=EvilDev&DeviceType=iPhone', // ASP.NET would read "GoodDev,EvilDev"
      'Cmd=Sync&DeviceId=GoodDev&Device%49d=EvilDev&DeviceType=iPhone', // ASP.NET decodes parameter names
      'Cmd=Sync&DeviceId=GoodDev&deviceID=EvilDev&DeviceType=iPhone',
      `Cmd=Sync&DeviceId=${'A'.repeat(65)}&DeviceType=iPhone`,
      'Cmd=Sync&DeviceId=Good%00Dev&DeviceType=iPhone',
      'Cmd=Sync&DeviceId=Good%44ev&DeviceType=iPhone',
      'Cmd=Sync&DeviceType=iPhone',
      `${easBase64({ id: 'GoodDev', type: 'iPhone' })}&DeviceId=EvilDev`,
      easBase64({ id: 'GoodDev', type: 'iPhone', params: [[8, 'a'], [8, 'b']] }),
    ]) {
      const r = await eas(env, q);
      assert.equal(r.head.status, 400, q);
      assert.equal(r.header('x-portcullis-reason'), 'activesync-query-malformed', q);
    }
    const none = await RawClient.connect(env.port, env.pki.ca);
    assert.equal((await none.request('POST', EAS, headers(), '')).header('x-portcullis-reason'), 'activesync-query-malformed', 'a command without a query');
    none.close();
    assert.equal(labSaw(env, before).length, 0);
  });

  it('the audit trail names the device of every request, in both query forms, and the operator who approved it', async () => {
    await new Promise((r) => setTimeout(r, 50));
    await env.runtime.audit!.writer.flush();
    const rows = await env.runtime.audit!.writer.store.query({ user: 'dave' });
    const pick = (event: string, id: string, decision?: string) => rows.find((r) => r.event === event && r.deviceId === id && (decision === undefined || r.decision === decision));
    const refused = pick('denied', 'ApplQ1');
    assert.deepEqual([refused?.reasons, refused?.deviceType, refused?.status, refused?.protocol], [['device-quarantined'], 'iPhone', 403, 'eas']);
    assert.deepEqual([pick('request', 'ApplQ1', 'allow')?.status, pick('request', 'B64dev', 'allow')?.deviceType], [200, 'SmartPhone'], 'plain and base64 form');
    assert.equal(pick('denied', 'B64dev')?.reasons?.[0], 'device-quarantined');
    const approval = pick('device-changed', 'ApplQ1', 'allow');
    assert.deepEqual([approval?.actor, approval?.cause], ['admin:ops', 'approved']);
    assert.equal(pick('device-changed', 'ApplQ1', 'deny')?.actor, 'quarantine', 'the quarantine itself is on the record');
    const malformed = await env.runtime.audit!.writer.store.query({ reason: 'activesync-query-malformed' });
    assert.ok(malformed.length >= 9);
    assert.ok(malformed.every((r) => r.deviceId === undefined && r.status === 400), 'a malformed query names no device');
  });

  it('NTLM: the NEGOTIATE leg names nobody and gets its challenge; the AUTHENTICATE leg is judged with its device', async () => {
    const ntlm = async (id: string, password = 'Passw0rd!', user = 'dave') => {
      const c = await RawClient.connect(env.port, env.pki.ca);
      const path = `${EAS}?${plain(id)}`;
      const r1 = await c.request('POST', path, { Authorization: `NTLM ${NEGOTIATE.toString('base64')}`, 'MS-ASProtocolVersion': '14.1' }, '');
      assert.equal(r1.head.status, 401);
      const challenge = /^NTLM (\S+)/.exec(r1.header('www-authenticate') ?? '')![1]!;
      const r = await c.request('POST', path, { Authorization: `NTLM ${await authenticateFor(challenge, user, 'LAB', password)}`, 'MS-ASProtocolVersion': '14.1' }, '');
      c.close();
      return r;
    };
    await admin(env, '/api/devices/approve', { user: 'LAB\\dave', device: 'NtlmPhone' });
    const ok = await ntlm('NtlmPhone');
    assert.deepEqual([ok.head.status, ok.header('x-lab-identity'), ok.header('x-lab-device')], [200, 'LAB\\dave', 'NtlmPhone/iPhone']);
    // An unapproved device over NTLM: the AUTHENTICATE cannot be checked apart from its command, so
    // the command goes on without it and gets Exchange's anonymous 401, whatever the password (an
    // outside attack enumerated users with wrong NTLM passwords through the 403).
    for (const password of ['Passw0rd!', 'wrong']) {
      const before = env.lab.state.log.length;
      const refused = await ntlm('NtlmNew', password);
      assert.deepEqual([refused.head.status, refused.header('x-portcullis-reason')], [401, undefined], password);
      assert.ok(env.lab.state.log.slice(before).every((e) => e.identity === undefined), 'nothing reached Exchange as dave');
    }
    const nobody = await ntlm('NtlmNew', 'wrong', 'nobody');
    assert.equal(nobody.head.status, 401, 'the same as for a user who does not exist');
    const listed = await admin(env, '/api/devices?user=LAB%5Cdave');
    assert.ok(!listed.body.some((d: any) => d.id === 'NtlmNew'), 'nothing recorded for an unproven NTLM claim');
    assert.equal(env.runtime.authority!.users.isLockedOut('LAB\\dave'), false);
  });

  it('OPTIONS (discovery) names no device and passes', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    assert.equal((await c.request('OPTIONS', EAS, headers())).head.status, 200);
    c.close();
  });
});

describe('ActiveSync devices: auto-approval of the first device', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ config: (b) => ({ ...b, devices: { mode: 'quarantine', autoApprove: 1 } }) });
  });
  after(() => env.stop());

  it('a wrong password takes no approval; the first proven device is approved, the second waits', async () => {
    const guess = await eas(env, plain('Guess1'), { password: 'wrong' });
    assert.equal(guess.head.status, 401, 'Exchange refused the password');
    const first = await eas(env, plain('First1'));
    assert.equal(first.head.status, 200);
    await new Promise((r) => setTimeout(r, 100));
    const rows = (await admin(env, '/api/devices?user=LAB%5Cdave')).body as any[];
    assert.deepEqual(rows.map((d) => [d.id, d.state, d.actor]), [['First1', 'approved', 'auto-approve']], 'the guessed device was not approved');
    assert.equal((await eas(env, plain('First1'))).head.status, 200);
    const second = await eas(env, plain('Second1', 'Sync', 'Android'));
    assert.equal(second.head.status, 403);
    assert.equal(second.header('x-portcullis-reason'), 'device-quarantined');
  });
});

describe('ActiveSync devices: blocking one device', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ lab: { eas: { maxPingMs: 60_000 } } });
  });
  after(() => env.stop());

  it("cuts the blocked device's live Ping within a second; the user's other device keeps its Ping and syncs", async () => {
    const phone = await heldPing(env, plain('PhoneA', 'Ping'));
    const tablet = await heldPing(env, easBase64({ command: 18, id: 'TabletB', type: 'iPad' }));
    const t0 = Date.now();
    const r = await admin(env, '/api/devices/block', { user: 'LAB\\dave', device: 'PhoneA', type: 'iPhone' });
    assert.equal(r.status, 200);
    assert.equal(r.body.closedConnections, 1);
    await phone.waitClosed(1_000);
    console.log(`# device block -> Ping cut: ${Date.now() - t0} ms`);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(tablet.closed, false, "the other device's Ping is still held");
    tablet.close();
    assert.equal((await eas(env, plain('TabletB'))).head.status, 200);
    const again = await eas(env, plain('PhoneA'));
    assert.equal(again.head.status, 403);
    assert.equal(again.header('x-portcullis-reason'), 'device-blocked');
  });

  it('a blocked device does not get through in another spelling, the other query form, or with device headers', async () => {
    await admin(env, '/api/devices/block', { user: 'LAB\\dave', device: 'Blocked9' });
    const before = env.lab.state.log.length;
    const tries: Array<[string, Record<string, string>?]> = [
      [plain('BLOCKED9')],
      [plain('blocked9', 'Ping', 'Android')],
      [easBase64({ id: 'Blocked9', type: 'iPhone' })],
      [easBase64({ id: 'bLoCkEd9', type: 'iPhone', key: Buffer.from([0, 0, 0, 1]) })],
      [plain('Blocked9'), { 'X-MS-PolicyKey': '1234567890', 'X-Device-Id': 'Allowed1', 'MS-ASAcceptMultiPart': 'T' }],
      ['deviceid=Blocked9&cmd=Sync&devicetype=iPhone&user=LAB%5Cdave&'],
    ];
    for (const [q, extra] of tries) {
      const r = await eas(env, q, { extra: extra ?? {} });
      assert.equal(r.head.status, 403, q);
      assert.equal(r.header('x-portcullis-reason'), 'device-blocked', q);
    }
    assert.equal(labSaw(env, before).length, 0, 'Exchange never saw the blocked device');
    // Another user's device of that id is another device.
    await admin(env, '/api/devices/remove', { user: 'LAB\\dave', device: 'Blocked9' });
    assert.equal((await eas(env, plain('Blocked9'))).head.status, 200, 'removed: in mode any it syncs again');
  });
});

describe('ActiveSync devices: a reload that changes the mode', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ lab: { eas: { maxPingMs: 60_000 } } });
  });
  after(() => env.stop());

  it('from any to allow-list: the live Ping of a device not on the list is cut, an approved one keeps syncing', async () => {
    await admin(env, '/api/devices/approve', { user: 'LAB\\dave', device: 'Listed1' });
    const listed = await heldPing(env, plain('Listed1', 'Ping'));
    const stranger = await heldPing(env, plain('Stranger1', 'Ping'));
    const written = parse(readFileSync(env.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(env.configFile, stringify({ ...written, devices: { mode: 'allow-list' } }));
    assert.equal(await env.runtime.reload(), true);
    await stranger.waitClosed(1_000);
    assert.equal(listed.closed, false);
    listed.close();
    assert.equal((await eas(env, plain('Stranger1'))).header('x-portcullis-reason'), 'device-not-allowed');
    assert.equal((await eas(env, plain('Listed1'))).head.status, 200);
  });
});

describe('ActiveSync devices in the admin console', () => {
  let env: Env;
  before(async () => {
    const section = await consoleSection(3);
    env = await startEnv({ lab: { eas: { maxPingMs: 60_000 } }, config: (b) => ({ ...b, devices: { mode: 'quarantine' }, admin: { ...(b['admin'] as object), console: section } }) });
  });
  after(() => env.stop());

  it("the user page lists dave's devices; an operator approves and blocks with CSRF (the Ping is cut), a viewer cannot", async () => {
    const admin = env.runtime.admin!.url;
    assert.equal((await eas(env, plain('<b>x'))).head.status, 400, 'not a DeviceId: never recorded, never shown');
    assert.equal((await eas(env, plain('ConsolePhone'))).head.status, 403);
    const op = await signIn(admin, 'operator');
    const page = await (await op.get('/console/users/view?user=LAB%5Cdave')).text();
    assert.match(page, /<h2>ActiveSync devices<\/h2><table>.*<tr data-device="ConsolePhone"><td class="mono">ConsolePhone<\/td><td>iPhone<\/td><td><span class="badge warn">quarantined<\/span>/s);
    assert.match(page, /data-action="device-approve"/);
    const viewer = await signIn(admin, 'viewer');
    assert.doesNotMatch(await (await viewer.get('/console/users/view?user=LAB%5Cdave')).text(), /data-action="device-/);
    assert.equal((await viewer.post('/console/devices/approve', { user: 'LAB\\dave', device: 'ConsolePhone' })).status, 403, 'a viewer cannot act');
    assert.equal((await op.post('/console/devices/approve', { user: 'LAB\\dave', device: 'ConsolePhone' }, { csrf: 'wrong' })).status, 403, 'CSRF');
    assert.equal((await eas(env, plain('ConsolePhone'))).head.status, 403, 'nothing changed');
    const ok = await op.post('/console/devices/approve', { user: 'LAB\\dave', device: 'ConsolePhone' });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /Device ConsolePhone of LAB\\dave approved/);
    const ping = await heldPing(env, plain('ConsolePhone', 'Ping'));
    const blocked = await op.post('/console/devices/block', { user: 'LAB\\dave', device: 'ConsolePhone' });
    assert.match(await blocked.text(), /blocked: 1 connection\(s\) closed/);
    await ping.waitClosed(1_000);
    await env.runtime.audit!.writer.flush();
    const recs = await env.runtime.audit!.writer.store.query({ event: 'device-changed' });
    assert.deepEqual(recs.filter((r) => r.actor === 'console:operator').map((r) => [r.deviceId, r.cause, r.text]), [['ConsolePhone', 'approved', undefined], ['ConsolePhone', 'blocked', '1 connection(s) closed']]);
    const page2 = await (await op.get('/console/audit?device=consolephone')).text();
    assert.match(page2, /device-changed.*by console:operator.*device ConsolePhone \(iPhone\)/s, 'the audit page filters by device, any case');
    const rows = page2.split('<tbody>')[1]?.split('<tr').slice(1) ?? [];
    assert.ok(rows.length >= 3 && rows.every((r) => r.includes('device ConsolePhone')), 'only records of that device');
  });
});
