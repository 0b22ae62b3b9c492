import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sidFromString, sidToString } from './sid.js';

describe('SIDs (objectSid, tokenGroups)', () => {
  it('reads the binary form AD returns', () => {
    // S-1-5-21-1978513072-1545136777-223986282-513 (Domain Users of a test domain), built with struct.pack
    const b = Buffer.from('010500000000000515000000b0b6ed7589ea185c6ac2590d01020000', 'hex');
    assert.equal(sidToString(b), 'S-1-5-21-1978513072-1545136777-223986282-513');
    assert.equal(sidToString(Buffer.from('01020000000000052000000021020000', 'hex')), 'S-1-5-32-545');
    assert.equal(sidToString(Buffer.from('010000000000000000', 'hex').subarray(0, 8)), 'S-1-0');
  });

  it('round-trips through the string form, and a subarray of a larger buffer reads right', () => {
    for (const s of ['S-1-5-21-1-2-3-4294967295', 'S-1-5-32-544', 'S-1-16-12288', 'S-1-5-18']) {
      const b = sidFromString(s)!;
      assert.equal(sidToString(b), s);
      const inside = Buffer.concat([Buffer.from([9, 9, 9]), b, Buffer.from([7])]).subarray(3, 3 + b.length);
      assert.equal(sidToString(inside), s);
    }
  });

  it('refuses malformed SIDs instead of guessing', () => {
    assert.equal(sidToString(Buffer.alloc(0)), undefined);
    assert.equal(sidToString(Buffer.from('0205000000000005', 'hex')), undefined, 'revision 2');
    assert.equal(sidToString(Buffer.from('01020000000000052000000021', 'hex')), undefined, 'truncated sub-authority');
    assert.equal(sidToString(Buffer.from('0101000000000005200000002102', 'hex')), undefined, 'trailing bytes');
    assert.equal(sidToString(Buffer.concat([Buffer.from([1, 16, 0, 0, 0, 0, 0, 5]), Buffer.alloc(64)])), undefined, 'more than 15 sub-authorities');
    assert.equal(sidFromString('S-1-5-4294967296'), undefined);
    assert.equal(sidFromString('S-2-5'), undefined);
    assert.equal(sidFromString('S-1-5-x'), undefined);
  });

});
