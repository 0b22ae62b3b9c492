// The configuration schema is the single source of truth: `config check` validates with it,
// `config schema` prints it as JSON Schema, and every field carries its documentation.
import { z } from 'zod';
import { directoryConfigSchema } from '../directory/directory-config.js';
import { lockoutSchema, policySchema, zonesSchema } from '../policy/policy-schema.js';
import { autodiscoverSchema } from '../autodiscover/autodiscover-schema.js';
import { edgeSchema } from '../classify/edge-schema.js';
import { connectionsSchema, listenerSchema } from '../listen/listen-schema.js';
import { httpSchema, upstreamSchema } from '../forward/forward-schema.js';
import { identitySchema } from '../identity/identity-schema.js';
import { adminSchema } from '../admin/admin-schema.js';
import { healthSchema } from '../health/health-schema.js';
import { auditSchema } from '../audit/audit-schema.js';
import { stateSchema } from '../state/state-schema.js';
import { signinSchema } from '../signin/signin-schema.js';
import { devicesSchema } from '../devices/devices-schema.js';

export const configSchema = z
  .object({
    listeners: z.array(listenerSchema).min(1).describe('TLS listeners the gateway accepts clients on.'),
    upstream: upstreamSchema,
    http: httpSchema.prefault({}),
    connections: connectionsSchema.prefault({}),
    zones: zonesSchema.prefault({}),
    directory: directoryConfigSchema.optional(),
    policy: policySchema.prefault({}).describe('Who may use which protocol from which zone.'),
    autodiscover: autodiscoverSchema.prefault({}).describe('Per-user Autodiscover rewriting and the published namespace.'),
    edge: edgeSchema.prefault({}).describe('Hardened edge: path allow-list, exploit shapes, RPC targets, offered schemes.'),
    lockout: lockoutSchema.prefault({}).describe('Smart lockout: stop forwarding a user\'s external logins after repeated failures.'),
    preauth: z
      .enum(['none', 'ldap'])
      .default('none')
      .describe('ldap: check Basic passwords with an LDAP bind before forwarding (needs the ldap directory).'),
    identity: identitySchema,
    admin: adminSchema,
    health: healthSchema,
    audit: auditSchema.prefault({}),
    state: stateSchema.prefault({}),
    signin: signinSchema.optional(),
    devices: devicesSchema.prefault({}),
    workers: z
      .union([z.number().int().min(1).max(64), z.literal('auto')])
      .default(1)
      .describe('Gateway processes sharing the listeners; auto: one per CPU. Revocations and lockouts are shared; a change needs a restart.'),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Lowest level written (JSON lines on stdout); info logs every refusal with its reasons.'),
      })
      .strict()
      .prefault({})
      .describe('Logging.'),
  })
  .strict()
  .describe('Portcullis gateway configuration.');

export type GatewayConfig = z.output<typeof configSchema>;
export type { ListenerConfig, ConnectionsConfig } from '../listen/listen-schema.js';
export type { UpstreamConfig, HttpConfig } from '../forward/forward-schema.js';
export type { AdminConfig } from '../admin/admin-schema.js';
export type { HealthConfig } from '../health/health-schema.js';
export type { AuditConfig } from '../audit/audit-schema.js';
export type { StateConfig } from '../state/state-schema.js';
export type { DevicesConfig } from '../devices/devices-schema.js';
export type { ZonesConfig } from '../policy/policy-schema.js';
export type { SigninConfig } from '../signin/signin-schema.js';
