import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { goldenContext } from '../../test/helpers/golden-context.js';
import { rewriteJson } from './rewrite-json.js';
import { rewritePox } from './rewrite-pox.js';
import { rewriteSoap } from './rewrite-soap.js';
import { scanXml } from './xml-scan.js';

const DIR = new URL('../../test/golden/autodiscover/', import.meta.url).pathname;
interface Case {
  name: string;
  upstream: string;
  kind: 'pox' | 'soap';
  zone: 'external' | 'internal';
  allow: string[];
  why: string;
}

describe('Autodiscover rewrite golden files', () => {
  for (const c of JSON.parse(readFileSync(DIR + 'cases.json', 'utf8')) as Case[]) {
    it(`${c.name}: ${c.why}`, () => {
      const upstream = readFileSync(DIR + c.upstream, 'utf8');
      const r = (c.kind === 'soap' ? rewriteSoap : rewritePox)(upstream, goldenContext(c.zone, c.allow));
      assert.ok(r.ok, r.ok ? '' : r.error);
      if (!r.ok) return;
      assert.equal(r.text, readFileSync(DIR + `${c.name}.expected.xml`, 'utf8'));
      if (c.zone === 'external') assert.doesNotMatch(r.text, /exch01\.lab\.local|dc1\./, 'no internal name reaches an external client');
      assert.ok(scanXml(r.text).ok, 'the result is still well-formed');
    });
  }
});

describe('a user allowed no Outlook protocol (issue #10: dave got an EXCH block)', () => {
  const upstream = readFileSync(DIR + 'outlook.upstream.xml', 'utf8');
  for (const zone of ['external', 'internal'] as const) {
    for (const allow of [['autodiscover'], ['autodiscover', 'eas'], ['autodiscover', 'eas', 'owa', 'ecp']]) {
      it(`${zone}, may ${allow.join('+')}: error 501, no mailbox server, ServerDN or MdbDN`, () => {
        const r = rewritePox(upstream, goldenContext(zone, allow));
        assert.ok(r.ok);
        if (!r.ok) return;
        assert.match(r.text, /<ErrorCode>501<\/ErrorCode>/);
        assert.doesNotMatch(r.text, /<Protocol|<Server>|ServerDN|MdbDN|714ea8fb|exch01|EXCH/);
        assert.ok(scanXml(r.text).ok);
      });
    }
  }
  for (const p of ['rpc', 'mapi', 'ews', 'oab']) {
    it(`one Outlook protocol (${p}) is enough for a settings answer`, () => {
      const r = rewritePox(upstream, goldenContext('external', ['autodiscover', p]));
      assert.ok(r.ok && /<Action>settings<\/Action>/.test(r.text) && !/<ErrorCode>/.test(r.text));
    });
  }
  it('a redirect is still passed: it names no server, and the final answer is rewritten again', () => {
    const text = '<?xml version="1.0"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Action>redirectAddr</Action><RedirectAddr>dave@lab.example</RedirectAddr></Account></Response></Autodiscover>';
    const r = rewritePox(text, goldenContext('external', ['autodiscover', 'eas']));
    assert.ok(r.ok && r.text === text);
  });
});

describe('Autodiscover rewrite refusals', () => {
  const ctx = goldenContext('external', ['autodiscover', 'mapi', 'ews']);
  const wrap = (account: string) =>
    `<?xml version="1.0"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account>${account}</Account></Response></Autodiscover>`;
  it('passes a redirectUrl towards a published name, refuses one towards any other', () => {
    assert.ok(rewritePox(wrap('<Action>redirectUrl</Action><RedirectUrl>https://autodiscover.lab.example/autodiscover/autodiscover.xml</RedirectUrl>'), ctx).ok);
    const bad = rewritePox(wrap('<Action>redirectUrl</Action><RedirectUrl>https://evil.example/autodiscover/autodiscover.xml</RedirectUrl>'), ctx);
    assert.ok(!bad.ok && /unpublished/.test(bad.error));
  });
  it('refuses a redirectAddr outside the accepted domains', () => {
    assert.ok(rewritePox(wrap('<Action>redirectAddr</Action><RedirectAddr>alice@lab.example</RedirectAddr>'), ctx).ok);
    assert.ok(!rewritePox(wrap('<Action>redirectAddr</Action><RedirectAddr>alice@evil.example</RedirectAddr>'), ctx).ok);
  });
  for (const [name, text] of [
    ['DOCTYPE (XXE)', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Autodiscover><Response>&e;</Response></Autodiscover>'],
    ['mismatched tags', '<Autodiscover><Response></Autodiscover>'],
    ['unclosed element', '<Autodiscover><Response>'],
    ['two roots', '<Autodiscover/><Autodiscover/>'],
    ['no Response', '<Autodiscover><Other/></Autodiscover>'],
    ['unterminated comment', '<Autodiscover><!-- x </Autodiscover>'],
  ] as const) {
    it(`refuses ${name}, never half-rewritten`, () => assert.equal(rewritePox(text, ctx).ok, false));
  }
  it('maps the JSON v2 URL and refuses an unpublished one', () => {
    const r = rewriteJson('{"Protocol":"EWS","Url":"https://exch01.lab.local/EWS/Exchange.asmx"}', ctx);
    assert.ok(r.ok && JSON.parse(r.text).Url === 'https://mail.lab.example/EWS/Exchange.asmx');
    assert.equal(rewriteJson('{"Protocol":"EWS","Url":"https://other.internal/EWS"}', ctx).ok, false);
    assert.equal(rewriteJson('{not json', ctx).ok, false);
  });
  it('never throws on mutated answers (fuzz, 5000 inputs)', () => {
    const base = readFileSync(DIR + 'outlook.upstream.xml', 'utf8');
    let seed = 99;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 5000; i++) {
      const chars = [...base.slice(0, Math.floor(rnd() * base.length))];
      for (let k = 0; k < 4; k++) if (chars.length) chars[Math.floor(rnd() * chars.length)] = '<>/"=&!?x '[Math.floor(rnd() * 11)] ?? 'x';
      const t = chars.join('');
      assert.doesNotThrow(() => rewritePox(t, ctx));
      assert.doesNotThrow(() => rewriteSoap(t, ctx));
    }
  });
});
