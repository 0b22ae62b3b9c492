// The `devices:` section: which ActiveSync devices may sync (src/devices). Only config/schema.ts
// imports it.
import { z } from 'zod';

export const DEVICE_MODES = ['any', 'allow-list', 'quarantine'] as const;
export type DeviceMode = (typeof DEVICE_MODES)[number];

/** Quarantined devices recorded per user at most: a password guesser cannot fill the store. */
export const DEFAULT_MAX_PENDING = 10;

export const devicesSchema = z
  .object({
    mode: z
      .enum(DEVICE_MODES)
      .default('any')
      .describe(
        'any: every device of an allowed user may sync (only blocked devices are refused); ' +
          'allow-list: only devices an operator approved (portcullis devices approve) may sync, others get 403 device-not-allowed; ' +
          'quarantine: a new device is recorded and refused with 403 device-quarantined (final for a device) until an operator approves it.',
      ),
    autoApprove: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(0)
      .describe(
        'With allow-list or quarantine: approve the first N devices of each user without an operator, once Exchange accepted the password ' +
          'the device sent (an approval is never given to an unproven password). 0: every device waits for an operator.',
      ),
    maxPending: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(DEFAULT_MAX_PENDING)
      .describe('Quarantine mode: at most this many waiting devices are recorded per user; more are refused without a record (the audit trail still names each).'),
  })
  .strict()
  .describe(
    'ActiveSync devices (DeviceId and DeviceType from the query, plain or base64 form): which may sync. Approvals and blocks live in the state store ' +
      '(state.store), are shared by every worker and instance, and are changed with portcullis devices or the admin API. A block applies in every mode.',
  );

export type DevicesConfig = z.output<typeof devicesSchema>;
