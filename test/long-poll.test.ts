import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startEnv } from './helpers/env.js';
import { RawClient } from '../src/doctor/http-probe.js';
import { mapiHeaders as headersFor } from './helpers/mapi.js';

const basic = `Basic ${Buffer.from('LAB\\alice:Passw0rd!').toString('base64')}`;
const mapiHeaders = (type: string, cookie?: string) => headersFor(basic, type, cookie);

async function connect(c: RawClient): Promise<string> {
  const r = await c.request('POST', '/mapi/emsmdb/?MailboxId=x@lab.example', mapiHeaders('Connect'), Buffer.alloc(40));
  assert.equal(r.head.status, 200);
  assert.equal(r.header('x-responsecode'), '0');
  assert.match(r.body.toString('latin1'), /^PROCESSING\r\nDONE\r\nX-ResponseCode: 0\r\n/);
  const cookie = r.head.headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value.split(';')[0]).join('; ');
  return cookie;
}

describe('MAPI NotificationWait long poll', () => {
  // The wait is silent (no PENDING lines) and outlasts keepAliveTimeout: only the MAPI idle
  // time-out may govern it.
  const lab = { mapi: { pendingPeriodMs: 60_000, notificationWaitMs: 3_000 } };

  it('is held for its full configured time and answered', async () => {
    const env = await startEnv({
      lab,
      config: (b) => ({ ...b, http: { keepAliveTimeout: '1s' }, upstream: { ...(b.upstream as object), idleTimeouts: { mapi: '5s' } } }),
    });
    try {
      const c = await RawClient.connect(env.port, env.pki.ca);
      const cookie = await connect(c);
      const t0 = Date.now();
      const r = await c.request('POST', '/mapi/emsmdb/?MailboxId=x@lab.example', mapiHeaders('NotificationWait', cookie), Buffer.alloc(8));
      const held = Date.now() - t0;
      console.log(`# NotificationWait held ${held} ms through the gateway`);
      assert.ok(held >= 2_900, `held only ${held} ms`);
      assert.equal(r.header('x-responsecode'), '0');
      const body = r.body;
      const binary = body.subarray(body.indexOf('\r\n\r\n') + 4);
      assert.equal(binary.readUInt32LE(8), 0, 'EventPending = 0 after a quiet wait');
      c.close();
    } finally {
      await env.stop();
    }
  });

  it('returns early with EventPending when the mailbox has an event', async () => {
    const env = await startEnv({ lab });
    try {
      const c = await RawClient.connect(env.port, env.pki.ca);
      const cookie = await connect(c);
      setTimeout(() => env.lab.notify('LAB\\alice'), 300);
      const r = await c.request('POST', '/mapi/emsmdb/?MailboxId=x@lab.example', mapiHeaders('NotificationWait', cookie), Buffer.alloc(8));
      const binary = r.body.subarray(r.body.indexOf('\r\n\r\n') + 4);
      assert.equal(binary.readUInt32LE(8), 1);
      c.close();
    } finally {
      await env.stop();
    }
  });

  it('is cut when the MAPI idle time-out is shorter than the wait (the time-out is real)', async () => {
    const env = await startEnv({ lab, config: (b) => ({ ...b, upstream: { ...(b.upstream as object), idleTimeouts: { mapi: '1s' } } }) });
    try {
      const c = await RawClient.connect(env.port, env.pki.ca);
      const cookie = await connect(c);
      c.write(
        `POST /mapi/emsmdb/?MailboxId=x@lab.example HTTP/1.1\r\nHost: x\r\n${Object.entries(mapiHeaders('NotificationWait', cookie)).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Content-Length: 8\r\n\r\n`,
      );
      c.write(Buffer.alloc(8));
      await c.waitClosed(2_900);
    } finally {
      await env.stop();
    }
  });
});
