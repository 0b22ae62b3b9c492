import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { paddingPdu } from '../src/lab/rts.js';
import { rpcStats } from '../src/lab/rpc-proxy.js';
import { type Env, startEnv, RPC_TARGET } from './helpers/env.js';
import { RawClient } from '../src/doctor/http-probe.js';


const GiB = 1024 ** 3;
const auth = `Basic ${Buffer.from('LAB\\alice:Passw0rd!').toString('base64')}`;
const MiB = (n: number) => (n / 1024 / 1024).toFixed(1);

/** CONN/A1 with a given virtual-connection cookie (76 bytes, [MS-RPCH] §2.2.4.2). */
function connA1(cookie: Buffer): Buffer {
  const b = Buffer.from('05001403100000004c00000000000000000004000600000001000000030000000000000000000000000000000000000003000000000000000000000000000000000000000000000000000400', 'hex');
  cookie.copy(b, 32);
  return b;
}

function sampleRss(): { stop: () => number; base: number } {
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return { base, stop: () => (clearInterval(t), peak - base) };
}

describe('RPC over HTTP channels stream without buffering', () => {
  let env: Env;
  before(async () => {
    env = await startEnv();
  });
  after(() => env.stop());

  it('carries a 1 GiB RPC_IN_DATA body with bounded memory', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    c.write(`RPC_IN_DATA /rpc/rpcproxy.dll?${RPC_TARGET} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nExpect: 100-continue\r\nContent-Length: ${GiB}\r\n\r\n`);
    const cont = await c.read('RPC_IN_DATA', 5000, true);
    assert.equal(cont.head.status, 100);
    const before = rpcStats.inBytes;
    const rss = sampleRss();
    const pdu = paddingPdu(65520);
    const block = Buffer.concat(Array.from({ length: 16 }, () => pdu));
    let left = GiB;
    const t0 = Date.now();
    while (left > 0) {
      const n = Math.min(left, block.length);
      left -= n;
      if (c.closed) throw new Error('the gateway closed the RPC channel');
      if (!c.socket.write(n === block.length ? block : block.subarray(0, n))) await new Promise<void>((r) => {
        const done = () => (c.socket.off('drain', done), c.socket.off('close', done), r());
        c.socket.once('drain', done);
        c.socket.once('close', done);
      });
    }
    while (rpcStats.inBytes - before < GiB) {
      if (c.closed) throw new Error('the RPC channel closed early');
      await new Promise((r) => setTimeout(r, 20));
    }
    const growth = rss.stop();
    const s = (Date.now() - t0) / 1000;
    console.log(`# RPC_IN_DATA 1 GiB: ${s.toFixed(1)} s (${MiB(GiB / s)} MiB/s), RSS growth ${MiB(growth)} MiB (lab, gateway and client in one process)`);
    assert.equal(rpcStats.inBytes - before, GiB);
    assert.ok(growth < 64 * 1024 * 1024, `RSS grew ${MiB(growth)} MiB`);
    c.close();
  });

  it('carries a 1 GiB RPC_OUT_DATA response stream with bounded memory', async () => {
    const c = await RawClient.connect(env.port, env.pki.ca);
    c.write(`RPC_OUT_DATA /rpc/rpcproxy.dll?${RPC_TARGET} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nPragma: LabStream=${GiB - 28}\r\nContent-Length: 76\r\n\r\n`);
    c.write(connA1(Buffer.alloc(16, 7)));
    const rss = sampleRss();
    const t0 = Date.now();
    let received = 0;
    let headerSeen = false;
    await new Promise<void>((resolve) => {
      c.socket.removeAllListeners('data');
      c.socket.on('data', (b: Buffer) => {
        if (!headerSeen) {
          const i = b.indexOf('\r\n\r\n');
          assert.match(b.subarray(0, i).toString('latin1'), /^HTTP\/1\.1 200 Success/);
          headerSeen = true;
          b = b.subarray(i + 4);
        }
        received += b.length;
        if (received >= GiB) resolve();
      });
      c.socket.once('close', () => resolve());
    });
    const growth = rss.stop();
    const s = (Date.now() - t0) / 1000;
    console.log(`# RPC_OUT_DATA 1 GiB: ${s.toFixed(1)} s (${MiB(GiB / s)} MiB/s), RSS growth ${MiB(growth)} MiB`);
    assert.equal(received, GiB);
    assert.ok(growth < 64 * 1024 * 1024, `RSS grew ${MiB(growth)} MiB`);
    c.close();
  });
});
