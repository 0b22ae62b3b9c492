import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupChains } from './user-groups.js';

describe('group chains', () => {
  it('shows each group with the nesting that reached it, once, cycles included', () => {
    const groups = [
      { name: 'Outlook-Remote', members: ['Sales'] },
      { name: 'Sales', members: [] },
      { name: 'All', members: ['outlook-remote', 'All'] },
    ];
    assert.deepEqual(groupChains(['Sales'], groups), [['Sales'], ['Sales', 'Outlook-Remote'], ['Sales', 'Outlook-Remote', 'All']]);
    assert.deepEqual(groupChains([], groups), []);
  });
});
