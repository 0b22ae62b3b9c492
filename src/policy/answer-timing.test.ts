import assert from 'node:assert/strict';
import { it } from 'node:test';
import { AnswerTiming } from './answer-timing.js';

it('holds a concealed refusal back by what a wrong password costs Exchange', () => {
  const t = new AnswerTiming();
  assert.equal(t.delayFor('ews'), 0, 'nothing learned yet');
  assert.equal(t.refusalWindow('ews'), 1_000);
  for (let i = 0; i < 20; i++) {
    t.credentialedRefusal('ews', 40 + (i % 5));
    t.anonymousRefusal('ews', 8 + (i % 3));
  }
  assert.ok(Math.abs(t.delayFor('ews') - 32) <= 2, String(t.delayFor('ews')));
  assert.equal(t.delayFor('eas'), 0, 'per protocol');
});

it('one burst of slow wrong passwords (they queued) does not hold every concealed refusal back for good (an outside attack)', () => {
  const t = new AnswerTiming();
  for (let i = 0; i < 24; i++) {
    t.credentialedRefusal('eas', 12);
    t.anonymousRefusal('eas', 6);
  }
  for (let i = 0; i < 40; i++) t.credentialedRefusal('eas', 300 + i);
  assert.equal(t.delayFor('eas'), 6, 'still what a wrong password takes without a queue');
  // A lasting change is followed: once slow answers are most of the window, they are the answer time.
  for (let i = 0; i < 64; i++) t.credentialedRefusal('eas', 200);
  assert.equal(t.delayFor('eas'), 194);
  assert.equal(t.refusalWindow('eas'), 650);
});
