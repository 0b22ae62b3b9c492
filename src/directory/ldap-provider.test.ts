import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeFilter } from './ldap-provider.js';
import { claimForm } from './provider.js';

describe('LDAP helpers', () => {
  it('escapes filter values (RFC 4515), so a user name cannot widen a search', () => {
    assert.equal(escapeFilter('*)(uid=*'), '\\2a\\29\\28uid=\\2a');
    assert.equal(escapeFilter('a\\b\0'), 'a\\5cb\\00');
  });

  it('accepts only configured domains, never a user name alone', () => {
    const domains = { netbios: ['lab'], upnSuffixes: ['lab.example'] };
    assert.deepEqual(claimForm({ domain: 'LAB', user: 'bob' }, domains), { kind: 'downlevel', domain: 'LAB', sam: 'bob' });
    assert.deepEqual(claimForm({ domain: 'lab.example', user: 'bob' }, domains), { kind: 'downlevel', domain: 'lab', sam: 'bob' });
    assert.deepEqual(claimForm({ domain: '', user: 'bob@LAB.example' }, domains), { kind: 'upn', upn: 'bob@LAB.example' });
    assert.deepEqual(claimForm({ domain: 'EVIL', user: 'bob' }, domains), { kind: 'unknown-domain' });
    assert.deepEqual(claimForm({ domain: '', user: 'bob@evil.example' }, domains), { kind: 'unknown-domain' });
    assert.deepEqual(claimForm({ domain: '', user: 'bob' }, { netbios: ['a', 'b'], upnSuffixes: [] }), { kind: 'unknown-domain' });
  });
});
