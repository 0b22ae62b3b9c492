import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Answer, followAutodiscover, isHtml } from './autodiscover-follow.js';

const START = 'https://autodiscover.example.com/autodiscover/autodiscover.xml';
const redirect = (location: string): Answer => ({ status: 302, location, contentType: '', body: '', exchangeLike: false, line: 'HTTP/1.1 302 Found' });
const exchange: Answer = { status: 401, location: undefined, contentType: '', body: '', exchangeLike: true, line: 'HTTP/1.1 401 Unauthorized' };
const html: Answer = { status: 200, location: undefined, contentType: 'text/html', body: '<html><form>', exchangeLike: false, line: 'HTTP/1.1 200 OK' };
const rules = { resolves: async (h: string) => h !== 'nowhere.example.com', covered: (h: string) => h.endsWith('example.com') && h !== 'other.example.com' };

/** A fake site: URL -> answer. */
const site = (m: Record<string, Answer>) => async (u: URL) => {
  const a = m[u.href];
  if (!a) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  return a;
};

describe('followAutodiscover: Outlook\'s redirect rules', () => {
  it('no redirect: the answer itself', async () => {
    const r = await followAutodiscover(START, site({ [START]: exchange }), rules);
    assert.equal(r.end.kind, 'answer');
  });
  it('one redirect to another published name is followed (the POST is sent again)', async () => {
    const to = 'https://mail.example.com/autodiscover/autodiscover.xml';
    const r = await followAutodiscover(START, site({ [START]: redirect(to), [to]: exchange }), rules);
    assert.equal(r.end.kind, 'answer');
    assert.deepEqual(r.chain, [START, to]);
  });
  it('a redirect to itself is a loop, with the chain of Location headers', async () => {
    const r = await followAutodiscover(START, site({ [START]: redirect(START) }), rules);
    assert.equal(r.end.kind, 'loop');
    assert.deepEqual(r.chain, [START, START]);
  });
  it('a longer cycle is a loop too; a relative Location is resolved', async () => {
    const b = 'https://mail.example.com/autodiscover/autodiscover.xml';
    const r = await followAutodiscover(START, site({ [START]: redirect(b), [b]: redirect('https://autodiscover.example.com/autodiscover/autodiscover.xml') }), rules);
    assert.equal(r.end.kind, 'loop');
    const rel = await followAutodiscover(START, site({ [START]: redirect('/Autodiscover/Autodiscover.xml'), 'https://autodiscover.example.com/Autodiscover/Autodiscover.xml': exchange }), rules);
    assert.equal(rel.end.kind, 'answer');
  });
  it('more than 10 hops stops', async () => {
    const m: Record<string, Answer> = {};
    for (let i = 0; i < 12; i++) m[i === 0 ? START : `https://mail.example.com/${i}/autodiscover/autodiscover.xml`] = redirect(`https://mail.example.com/${i + 1}/autodiscover/autodiscover.xml`);
    const r = await followAutodiscover(START, site(m), rules);
    assert.equal(r.end.kind, 'too-many');
  });
  const wrong: Array<[string, string, RegExp]> = [
    ['http://', 'http://mail.example.com/autodiscover/autodiscover.xml', /https:\/\/ only/],
    ['a name that does not resolve', 'https://nowhere.example.com/autodiscover/autodiscover.xml', /does not resolve/],
    ['a name the certificate does not cover', 'https://other.example.com/autodiscover/autodiscover.xml', /does not cover/],
    ['a path that is not Autodiscover', 'https://mail.example.com/owa/auth/logon.aspx', /not an Autodiscover URL \(it answers with an HTML page\)/],
  ];
  for (const [name, to, why] of wrong) {
    it(`a redirect to ${name} is named`, async () => {
      const r = await followAutodiscover(START, site({ [START]: redirect(to), 'https://mail.example.com/owa/auth/logon.aspx': html }), rules);
      assert.equal(r.end.kind, 'wrong');
      assert.match((r.end as { why: string }).why, why);
    });
  }
  it('a connection error ends with its code', async () => {
    const r = await followAutodiscover(START, site({}), rules);
    assert.deepEqual(r.end, { kind: 'error', url: START, message: 'ECONNREFUSED' });
  });
  it('isHtml by type or by body', () => {
    assert.ok(isHtml({ contentType: 'text/html; charset=utf-8', body: '' }));
    assert.ok(isHtml({ contentType: '', body: '  <!DOCTYPE html><html>' }));
    assert.ok(!isHtml({ contentType: 'text/xml', body: '<?xml version="1.0"?><Autodiscover>' }));
  });
});
