import assert from 'node:assert/strict';
import { deflateSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { cannedUpstream } from './helpers/canned-upstream.js';
import { type Env, startEnv } from './helpers/env.js';
import { RawClient } from '../src/doctor/http-probe.js';

const basic = (u: string) => `Basic ${Buffer.from(`${u}:Passw0rd!`).toString('base64')}`;
const pox = (mail: string, schema = 'outlook/responseschema/2006a') =>
  `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${mail}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/${schema}</AcceptableResponseSchema></Request></Autodiscover>`;

async function ask(env: Env, user: string, headers: Record<string, string> = {}, body = pox(`${user}@lab.example`)) {
  const c = await RawClient.connect(env.port, env.pki.ca);
  const r = await c.request('POST', '/autodiscover/autodiscover.xml', { Authorization: basic(`LAB\\${user}`), 'Content-Type': 'text/xml', 'Accept-Encoding': 'gzip', 'X-MapiHttpCapability': '1', 'X-ClientCanHandle': 'ExHttpInfo', ...headers }, body);
  c.close();
  return r;
}

describe('Autodiscover rewriting through the gateway', () => {
  let env: Env;
  before(async () => {
    env = await startEnv();
  });
  after(() => env.stop());

  it('erin (MAPI only): no RPC blocks, mapiHttp kept, only published names, from a gzip answer', async () => {
    const r = await ask(env, 'erin');
    assert.equal(r.head.status, 200);
    assert.equal(r.header('content-encoding'), undefined, 'decoded and rewritten');
    const x = r.body.toString();
    assert.doesNotMatch(x, /<Type>EXPR<\/Type>|<Type>EXHTTP<\/Type>/);
    assert.match(x, /<Protocol Type="mapiHttp" Version="1">/);
    assert.doesNotMatch(x, /exch01\.lab\.local|<AD>/);
    assert.match(x, new RegExp(`<EwsUrl>https://127\\.0\\.0\\.1:${env.port}/EWS/Exchange\\.asmx</EwsUrl>`));
    assert.equal(Number(r.header('content-length')), r.body.length);
  });

  it('alice (Outlook-Remote): RPC and MAPI both offered, still no internal name', async () => {
    const x = (await ask(env, 'alice')).body.toString();
    assert.match(x, /<Type>EXPR<\/Type>/);
    assert.match(x, /mapiHttp/);
    assert.doesNotMatch(x, /exch01\.lab\.local/);
  });

  it('dave (Mobile-Only): the mobilesync answer keeps the ActiveSync URL', async () => {
    const x = (await ask(env, 'dave', {}, pox('dave@lab.example', 'mobilesync/responseschema/2006'))).body.toString();
    assert.match(x, new RegExp(`<Url>https://127\\.0\\.0\\.1:${env.port}/Microsoft-Server-ActiveSync</Url>`));
  });

  it('dave (Mobile-Only, issue #10): the Outlook-schema answer names no Outlook protocol and no mailbox server', async () => {
    const r = await ask(env, 'dave');
    assert.equal(r.head.status, 200);
    const x = r.body.toString();
    assert.match(x, /<Error>\s*<ErrorCode>501<\/ErrorCode>/);
    assert.doesNotMatch(x, /<Protocol|<Type>EXCH|<Server>|ServerDN|MdbDN|exch01\.lab\.local/);
    assert.equal(Number(r.header('content-length')), r.body.length);
  });

  it('carol (allowed nothing) is denied Autodiscover itself', async () => {
    // Outside, a refusal before a password is proven is concealed as a wrong password (401).
    const r = await ask(env, 'carol');
    assert.equal(r.head.status, 401);
    assert.doesNotMatch(r.body.toString(), /<Autodiscover/);
  });

  it('JSON v2 from outside: every address gets the same answer, so it tells nobody who may use what (issue #10)', async () => {
    const answer = async (who: string, protocol: string) => {
      const c = await RawClient.connect(env.port, env.pki.ca);
      const r = await c.request('GET', `/autodiscover/autodiscover.json/v1.0/${who}@lab.example?Protocol=${protocol}`);
      c.close();
      return `${r.head.status} ${r.header('x-portcullis-reason') ?? ''} ${r.body.toString()}`;
    };
    const ews = await answer('alice', 'EWS');
    assert.match(ews, new RegExp(`^200 .*"Url":"https://127\\.0\\.0\\.1:${env.port}/EWS/Exchange\\.asmx"`));
    for (const who of ['erin', 'carol', 'dave', 'nobody']) assert.equal(await answer(who, 'EWS'), ews.replace(/alice/g, who), who);
    const eas = await answer('dave', 'ActiveSync');
    for (const who of ['alice', 'erin', 'carol', 'nobody']) assert.equal(await answer(who, 'ActiveSync'), eas.replace(/dave/g, who), who);
  });

  it('JSON v2 inside or on a proven connection: a protocol the user may not use is answered as unavailable, unforwarded', async () => {
    const inside = await startEnv({ config: (b) => ({ ...b, zones: { internal: { concealDenials: false }, external: { concealDenials: false } } }) });
    try {
      const c = await RawClient.connect(inside.port, inside.pki.ca);
      const ok = await c.request('GET', '/autodiscover/autodiscover.json/v1.0/erin@lab.example?Protocol=EWS');
      assert.equal(ok.head.status, 200);
      assert.deepEqual(JSON.parse(ok.body.toString()), { Protocol: 'EWS', Url: `https://127.0.0.1:${inside.port}/EWS/Exchange.asmx` });
      const before = inside.lab.state.log.length;
      const c2 = await RawClient.connect(inside.port, inside.pki.ca);
      const no = await c2.request('GET', '/autodiscover/autodiscover.json/v1.0/erin@lab.example?Protocol=ActiveSync');
      assert.equal(no.head.status, 400);
      assert.equal(JSON.parse(no.body.toString()).ErrorCode, 'InvalidProtocol');
      assert.equal(inside.lab.state.log.length, before);
    } finally {
      await inside.stop();
    }
  });
});

describe('Autodiscover answers that must be refused, never passed half-rewritten', () => {
  const ok = (body: Buffer, headers: string) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n${headers}\r\n`), body]);
  const small = Buffer.from('<?xml version="1.0"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Protocol><Type>EXCH</Type><EwsUrl>https://exch01.lab.local/EWS/Exchange.asmx</EwsUrl></Protocol></Account></Response></Autodiscover>');
  const sized = (text: string) => ok(Buffer.from(text), `Content-Length: ${Buffer.byteLength(text)}\r\n`);
  const chunk = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n0\r\n\r\n')]);
  const cases: Array<[string, Buffer, number, RegExp]> = [
    ['deflate + chunked', ok(chunk(deflateSync(small)), 'Content-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n'), 200, /<EwsUrl>https:\/\/127\.0\.0\.1:\d+\/EWS/],
    ['gzip', ok(gzipSync(small), `Content-Encoding: gzip\r\nContent-Length: ${gzipSync(small).length}\r\n`), 200, /<EwsUrl>https:\/\/127\.0\.0\.1:\d+\/EWS/],
    ['malformed XML', sized('<Autodiscover><Response>'), 502, /malformed Autodiscover XML/],
    ['a DOCTYPE (XXE)', sized('<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><Autodiscover/>'), 502, /DOCTYPE/],
    ['an answer over the size limit', ok(Buffer.alloc(2 * 1024 * 1024, 0x20), `Content-Length: ${2 * 1024 * 1024}\r\n`), 502, /exceeds 1048576 bytes/],
    ['a gzip bomb', ok(gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)), `Content-Encoding: gzip\r\nContent-Length: ${gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)).length}\r\n`), 502, /cannot decode the gzip/],
  ];
  for (const [name, response, status, body] of cases) {
    it(`${name} -> ${status}`, async () => {
      const up = await cannedUpstream(response);
      const env = await startEnv({ upstreamUrl: up.url });
      try {
        const r = await ask(env, 'alice');
        assert.equal(r.head.status, status);
        assert.match(r.body.toString(), body);
      } finally {
        await env.stop();
        await up.stop();
      }
    });
  }
});
