// One contract for every SecondFactorStore: memory and SQLite (src/state/second-factor-stores.test.ts)
// and PostgreSQL (test/interop/second-factor-postgres.test.ts) run exactly these cases. `fresh`
// gives a store on an empty database (opened by the test); `another` a second store on the same
// database: another gateway instance (or, for SQLite, another process's connection).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SecondFactorStore, StoredPasskey } from '../../src/state/second-factor-store.js';

export interface SecondFactorContractSubject {
  fresh(): Promise<{ store: SecondFactorStore; another(): SecondFactorStore }>;
  /** True when a store opened again on the same database sees what the first wrote (not memory). */
  readonly durable: boolean;
}

const T0 = Date.UTC(2026, 11, 2, 8, 0, 0);
const SEALED = { keyId: 'k1', data: 'AAAA-sealed-1' };
const SEALED2 = { keyId: 'k2', data: 'BBBB-sealed-2' };

const passkey = (id: string, at: number, counter = 0): StoredPasskey => ({ id, publicKey: `pk-${id}`, counter, transports: ['usb', 'hybrid'], name: `key ${id}`, createdAt: at, lastUsedAt: undefined });

async function withStore(subject: SecondFactorContractSubject, fn: (s: SecondFactorStore, another: () => SecondFactorStore) => Promise<void>): Promise<void> {
  const { store, another } = await subject.fresh();
  await store.open();
  try {
    await fn(store, another);
  } finally {
    await store.close();
  }
}

export function runSecondFactorStoreContract(name: string, subject: SecondFactorContractSubject): void {
  describe(`SecondFactorStore contract: ${name}`, () => {
    it('a pending TOTP secret is kept until it expires, and a new one replaces it', async () => {
      await withStore(subject, async (s) => {
        assert.equal(await s.pendingTotp('LAB\\alice', T0), undefined);
        await s.putPendingTotp('LAB\\alice', SEALED, T0 + 900_000);
        assert.deepEqual(await s.pendingTotp('lab\\ALICE', T0 + 899_999), SEALED, 'user keys compare case-insensitively');
        assert.equal(await s.pendingTotp('LAB\\alice', T0 + 900_000), undefined, 'expired');
        await s.putPendingTotp('LAB\\alice', SEALED2, T0 + 1_000_000);
        assert.deepEqual(await s.pendingTotp('LAB\\alice', T0), SEALED2);
        assert.equal(await s.pendingTotp('LAB\\bob', T0), undefined, 'another user has none');
      });
    });

    it('activating moves the pending secret to active once, records the step, and refuses a replaced or expired one', async () => {
      await withStore(subject, async (s) => {
        await s.putPendingTotp('LAB\\alice', SEALED, T0 + 900_000);
        assert.equal(await s.activateTotp('LAB\\alice', SEALED2, 100, T0), false, 'not the pending secret');
        assert.equal(await s.activateTotp('LAB\\alice', SEALED, 100, T0 + 900_000), false, 'expired');
        assert.equal(await s.activeTotp('LAB\\alice'), undefined);
        assert.equal(await s.activateTotp('LAB\\Alice', SEALED, 100, T0), true);
        assert.deepEqual(await s.activeTotp('lab\\alice'), SEALED);
        assert.equal(await s.pendingTotp('LAB\\alice', T0), undefined, 'no longer pending');
        assert.equal(await s.activateTotp('LAB\\alice', SEALED, 101, T0), false, 'only once');
        assert.equal(await s.acceptTotpStep('LAB\\alice', 100), false, 'the confirming step counts as used');
        assert.equal(await s.acceptTotpStep('LAB\\alice', 101), true);
        // Re-enrolling replaces the active secret and never moves the last step back.
        await s.putPendingTotp('LAB\\alice', SEALED2, T0 + 900_000);
        assert.equal(await s.activateTotp('LAB\\alice', SEALED2, 50, T0), true);
        assert.deepEqual(await s.activeTotp('LAB\\alice'), SEALED2);
        assert.equal(await s.acceptTotpStep('LAB\\alice', 101), false);
      });
    });

    it('a time step is accepted only when greater than the last accepted one, per user', async () => {
      await withStore(subject, async (s) => {
        assert.equal(await s.acceptTotpStep('LAB\\alice', 1000), true);
        assert.equal(await s.acceptTotpStep('LAB\\alice', 1000), false, 'the same step again: a replay');
        assert.equal(await s.acceptTotpStep('lab\\alice', 999), false, 'an earlier step');
        assert.equal(await s.acceptTotpStep('LAB\\alice', 1001), true);
        assert.equal(await s.acceptTotpStep('LAB\\bob', 1000), true, 'another user has his own');
      });
    });

    it('race: two instances accepting the same step at once: exactly one wins', async () => {
      await withStore(subject, async (a, another) => {
        const b = another();
        await b.open();
        try {
          for (let step = 5000; step < 5005; step++) {
            const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).acceptTotpStep('LAB\\alice', step)));
            assert.equal(answers.filter(Boolean).length, 1, `step ${step}: ${answers.join(',')}`);
          }
          // A pending secret confirmed by both instances at once becomes active once.
          await a.putPendingTotp('LAB\\bob', SEALED, T0 + 900_000);
          const confirms = await Promise.all([a.activateTotp('LAB\\bob', SEALED, 7, T0), b.activateTotp('LAB\\bob', SEALED, 7, T0), a.activateTotp('LAB\\bob', SEALED, 7, T0)]);
          assert.equal(confirms.filter(Boolean).length, 1);
          // A challenge taken by both at once is taken once.
          await a.putChallenge('LAB\\bob', 'authentication', 'chal-race', T0, T0 + 300_000);
          const takes = await Promise.all([a.takeChallenge('LAB\\bob', 'authentication', 'chal-race', T0), b.takeChallenge('LAB\\bob', 'authentication', 'chal-race', T0)]);
          assert.equal(takes.filter(Boolean).length, 1);
        } finally {
          await b.close();
        }
      });
    });

    it('passkeys: kept per user with their details, a credential id belongs to one user only', async () => {
      await withStore(subject, async (s) => {
        assert.equal(await s.addPasskey('LAB\\alice', passkey('cred-2', T0 + 10)), true);
        assert.equal(await s.addPasskey('LAB\\alice', passkey('cred-1', T0)), true);
        assert.equal(await s.addPasskey('LAB\\bob', passkey('cred-1', T0 + 20)), false, "bob cannot register alice's credential");
        assert.equal(await s.addPasskey('LAB\\alice', { ...passkey('cred-1', T0 + 30), name: 'again' }), false, 'nor she twice');
        assert.deepEqual(await s.passkeys('lab\\alice'), [passkey('cred-1', T0), passkey('cred-2', T0 + 10)], 'oldest first');
        assert.deepEqual(await s.passkeys('LAB\\bob'), []);
        assert.deepEqual(await s.passkey('LAB\\alice', 'cred-1'), passkey('cred-1', T0));
        assert.equal(await s.passkey('LAB\\bob', 'cred-1'), undefined, "another user's credential is not found");
        assert.equal(await s.passkey('LAB\\alice', 'nope'), undefined);
      });
    });

    it('a passkey use moves the counter forward only (0 stays allowed for authenticators without one)', async () => {
      await withStore(subject, async (s) => {
        await s.addPasskey('LAB\\alice', passkey('c', T0, 5));
        await s.addPasskey('LAB\\alice', passkey('z', T0, 0));
        assert.equal(await s.usePasskey('LAB\\alice', 'c', 5, T0 + 1), false, 'not greater');
        assert.equal(await s.usePasskey('LAB\\alice', 'c', 4, T0 + 1), false, 'backwards: a clone');
        assert.equal(await s.usePasskey('LAB\\bob', 'c', 9, T0 + 1), false, "not bob's");
        assert.equal(await s.usePasskey('LAB\\alice', 'c', 6, T0 + 2), true);
        assert.deepEqual(await s.passkey('LAB\\alice', 'c'), { ...passkey('c', T0, 6), lastUsedAt: T0 + 2 });
        assert.equal(await s.usePasskey('LAB\\alice', 'z', 0, T0 + 3), true);
        assert.equal(await s.usePasskey('LAB\\alice', 'z', 0, T0 + 4), true);
        assert.equal((await s.passkey('LAB\\alice', 'z'))?.lastUsedAt, T0 + 4);
      });
    });

    it('a challenge is taken once, only by its user and purpose, and not after it expired', async () => {
      await withStore(subject, async (s) => {
        await s.putChallenge('LAB\\alice', 'registration', 'chal-1', T0, T0 + 300_000);
        await s.putChallenge('LAB\\alice', 'authentication', 'chal-2', T0, T0 + 300_000);
        assert.equal(await s.takeChallenge('LAB\\bob', 'registration', 'chal-1', T0), false, 'not his');
        assert.equal(await s.takeChallenge('LAB\\alice', 'authentication', 'chal-1', T0), false, 'not for this purpose');
        assert.equal(await s.takeChallenge('lab\\alice', 'registration', 'chal-1', T0 + 1), true);
        assert.equal(await s.takeChallenge('LAB\\alice', 'registration', 'chal-1', T0 + 2), false, 'single use');
        assert.equal(await s.takeChallenge('LAB\\alice', 'authentication', 'chal-2', T0 + 300_000), false, 'expired');
        assert.equal(await s.takeChallenge('LAB\\alice', 'authentication', 'chal-2', T0), false, 'an expired one is gone');
        await s.putChallenge('LAB\\alice', 'authentication', 'chal-3', T0, T0 + 10);
        await s.putChallenge('LAB\\alice', 'authentication', 'chal-4', T0 + 20, T0 + 300_000);
        assert.equal(await s.takeChallenge('LAB\\alice', 'authentication', 'chal-3', T0), false, 'pruned when a later one was put');
        assert.equal(await s.takeChallenge('LAB\\alice', 'authentication', 'chal-4', T0 + 21), true);
      });
    });

    it('reset forgets everything of the user and nothing of another', async () => {
      await withStore(subject, async (s) => {
        for (const u of ['LAB\\alice', 'LAB\\bob']) {
          await s.putPendingTotp(u, SEALED, T0 + 900_000);
          assert.equal(await s.activateTotp(u, SEALED, 10, T0), true);
          await s.putPendingTotp(u, SEALED2, T0 + 900_000);
          await s.addPasskey(u, passkey(`${u}-1`, T0));
          await s.addPasskey(u, passkey(`${u}-2`, T0 + 1));
          await s.putChallenge(u, 'authentication', `chal-${u}`, T0, T0 + 300_000);
        }
        assert.deepEqual(await s.reset('lab\\ALICE'), { totp: true, passkeys: 2 });
        assert.equal(await s.activeTotp('LAB\\alice'), undefined);
        assert.equal(await s.pendingTotp('LAB\\alice', T0), undefined);
        assert.deepEqual(await s.passkeys('LAB\\alice'), []);
        assert.equal(await s.takeChallenge('LAB\\alice', 'authentication', 'chal-LAB\\alice', T0), false);
        assert.equal(await s.acceptTotpStep('LAB\\alice', 5), true, 'the last step is forgotten too');
        assert.deepEqual(await s.reset('LAB\\alice'), { totp: false, passkeys: 0 }, 'nothing left');
        assert.deepEqual(await s.activeTotp('LAB\\bob'), SEALED);
        assert.equal((await s.passkeys('LAB\\bob')).length, 2);
        assert.equal(await s.takeChallenge('LAB\\bob', 'authentication', 'chal-LAB\\bob', T0), true);
      });
    });

    it('what one store wrote, another store on the same database reads (durable stores: after a restart too)', async () => {
      const { store, another } = await subject.fresh();
      await store.open();
      await store.putPendingTotp('LAB\\alice', SEALED, T0 + 900_000);
      await store.activateTotp('LAB\\alice', SEALED, 42, T0);
      await store.addPasskey('LAB\\alice', passkey('c', T0, 3));
      await store.putChallenge('LAB\\alice', 'registration', 'chal', T0, T0 + 300_000);
      if (subject.durable) await store.close();
      const again = another();
      await again.open();
      try {
        assert.deepEqual(await again.activeTotp('LAB\\alice'), SEALED);
        assert.equal(await again.acceptTotpStep('LAB\\alice', 42), false);
        assert.deepEqual(await again.passkeys('LAB\\alice'), [passkey('c', T0, 3)]);
        assert.equal(await again.takeChallenge('LAB\\alice', 'registration', 'chal', T0), true);
      } finally {
        await again.close();
        if (!subject.durable) await store.close();
      }
    });
  });
}
