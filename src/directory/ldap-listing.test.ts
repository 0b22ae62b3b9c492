import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LdapSession } from './ldap-connection.js';
import { findUsers } from './ldap-listing.js';

function session(entries: Array<Record<string, unknown>>): { c: LdapSession; asked: Array<{ base: string; filter: string; sizeLimit: number | undefined }> } {
  const asked: Array<{ base: string; filter: string; sizeLimit: number | undefined }> = [];
  const c = {
    async search(base: string, o: { filter: string; sizeLimit?: number }) {
      asked.push({ base, filter: o.filter, sizeLimit: o.sizeLimit });
      return { searchEntries: entries, searchReferences: [] };
    },
  } as unknown as LdapSession;
  return { c, asked };
}

const AD = { baseDn: 'CN=Users,DC=lab,DC=example', groupBaseDn: 'CN=Users,DC=lab,DC=example', userFilter: '(objectClass=person)', ad: true };

describe('findUsers (the console search box on LDAP)', () => {
  it('prefixes on the logon name, UPN and mail, a substring of the display name, computers left out, with a size limit', async () => {
    const { c, asked } = session([
      { dn: 'CN=bob', sAMAccountName: 'bob', displayName: 'Bob Builder', mail: 'bob@lab.example' },
      { dn: 'CN=alice', sAMAccountName: 'alice', cn: 'alice' },
      { dn: 'CN=x' },
    ]);
    const hits = await findUsers(c, AD, 'lab', 'b', 50);
    assert.deepEqual(asked, [{ base: AD.baseDn, filter: '(&(objectClass=person)(objectClass=user)(!(objectClass=computer))(|(sAMAccountName=b*)(userPrincipalName=b*)(mail=b*)(displayName=*b*)))', sizeLimit: 50 }]);
    assert.deepEqual(hits, [
      { key: 'LAB\\alice', name: 'alice', mail: undefined },
      { key: 'LAB\\bob', name: 'Bob Builder', mail: 'bob@lab.example' },
    ]);
  });

  it('a search text cannot widen or break the filter', async () => {
    const { c, asked } = session([]);
    await findUsers(c, { ...AD, ad: false }, 'LAB', 'a*)(uid=*', 5);
    assert.equal(asked[0]!.filter, '(&(objectClass=person)(|(uid=a\\2a\\29\\28uid=\\2a*)(mail=a\\2a\\29\\28uid=\\2a*)(cn=*a\\2a\\29\\28uid=\\2a*)(displayName=*a\\2a\\29\\28uid=\\2a*)))');
  });
});
