// What the sign-in flow's composition calls to get its second factor: the key(s) from
// signin.secondFactor, the store beside the state store (state:), opened. Every worker process
// and every instance may open its own: all of them share the store, none keeps state of its own
// (with state.store: memory each process has its own store, which is for tests only).
import type { Logger } from 'pino';
import { buildSecondFactorStore } from '../state/open-second-factor-store.js';
import type { StateConfig } from '../state/state-schema.js';
import { keyFileExposure, SecretBox } from './secret-box.js';
import type { SecondFactorConfig } from './second-factor-schema.js';
import type { SecondFactorService } from './second-factor.js';
import { createSecondFactorService } from './second-factor-service.js';

/**
 * Reads the keys, opens the store and returns the service (its `close()` closes the store).
 * Throws SecretBoxError (a key file missing or malformed) or SecondFactorStoreError (the store
 * cannot be opened), each one line naming the file or store and never key material: a gateway
 * that signs browsers in must not start without its second factor.
 */
export async function openSecondFactorService(state: StateConfig, cfg: SecondFactorConfig, log: Logger, now?: () => number): Promise<SecondFactorService> {
  const box = SecretBox.fromFiles(cfg.keyFile, cfg.previousKeyFiles);
  for (const f of [cfg.keyFile, ...cfg.previousKeyFiles]) {
    const exposed = keyFileExposure(f);
    if (exposed) log.warn(exposed);
  }
  const store = buildSecondFactorStore(state);
  try {
    await store.open();
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
  log.info({ store: store.describe, keyId: box.currentKeyId, previousKeys: cfg.previousKeyFiles.length }, 'second factor ready');
  return createSecondFactorService({ store, box, log, ...(now ? { now } : {}) });
}
