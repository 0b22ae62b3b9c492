import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { describe, it } from 'node:test';
import { labZone, parseQuery, startDnsResponder } from './dns-responder.js';

describe('lab DNS responder', () => {
  it('answers A, SRV and NXDOMAIN to a real resolver', async () => {
    const dns = await startDnsResponder(labZone(8443));
    try {
      const r = new Resolver({ timeout: 1000, tries: 1 });
      r.setServers([`127.0.0.1:${dns.port}`]);
      assert.deepEqual(await r.resolve4('mail.lab.example'), ['127.0.0.1']);
      // Only the record's own fields: Node 26 also tags each answer with `type: 'SRV'` (Node 20 does not).
      const srv = (await r.resolveSrv('_autodiscover._tcp.lab.example')).map(({ name, port, priority, weight }) => ({ name, port, priority, weight }));
      assert.deepEqual(srv, [{ name: 'mail.lab.example', port: 8443, priority: 0, weight: 0 }]);
      await assert.rejects(r.resolve4('nothing.lab.example'), /ENOTFOUND/);
    } finally {
      await dns.stop();
    }
  });

  it('never throws on malformed queries (fuzz, 20000 inputs)', () => {
    let seed = 5;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const base = Buffer.from('12340100000100000000000004 6d61696c 036c6162 076578616d706c65 00 0001 0001'.replace(/ /g, ''), 'hex');
    for (let i = 0; i < 20000; i++) {
      const b = Buffer.from(base.subarray(0, Math.floor(rnd() * (base.length + 1))));
      for (let k = 0; k < 3; k++) if (b.length) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      assert.doesNotThrow(() => parseQuery(b));
    }
  });
});
