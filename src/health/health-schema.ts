// The dedicated probe listener: this feature's section of the configuration.
import { z } from 'zod';

export const healthSchema = z
  .object({
    address: z.string().default('0.0.0.0').describe('Address of the probe listener (the load balancer must reach it).'),
    port: z.number().int().min(0).max(65535).describe('Port of the plain-HTTP probe listener.'),
  })
  .strict()
  .optional()
  .describe('A dedicated plain-HTTP listener for load-balancer probes: GET /healthz (alive) and /readyz (ready, with causes); nothing else. The admin endpoint serves both too.');

export type HealthConfig = NonNullable<z.output<typeof healthSchema>>;
