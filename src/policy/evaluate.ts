// The policy as a pure function: (who, what, from where) -> decision with reasons. No I/O, so the
// same code answers a live request, a re-evaluation after a directory change and `policy explain`.
import type net from 'node:net';
import type { Protocol } from '../vocabulary/protocols.js';
import { blockListOf, parseCidr, plainAddress } from '../vocabulary/cidr.js';
import type { Zone } from '../vocabulary/zones.js';
import type { DirectoryEntry } from '../directory/provider.js';
import { type Decision, type Reason, allow, deny } from './decision.js';
import type { PolicyConfig } from './policy-schema.js';

export type Subject =
  | { readonly kind: 'user'; readonly entry: DirectoryEntry }
  | { readonly kind: 'kerberos' }
  | { readonly kind: 'unidentified' };

export interface AccessRequest {
  readonly subject: Subject;
  readonly protocol: Protocol;
  readonly zone: Zone;
  readonly clientAddress: string;
}

/** Per-user states that override rules: revocation and smart lockout. */
export interface UserStates {
  isRevoked(key: string): boolean;
  isLockedOut(key: string): boolean;
}

interface CompiledRule {
  readonly name: string;
  readonly effect: 'allow' | 'deny';
  readonly protocols: ReadonlySet<Protocol> | undefined;
  readonly zones: ReadonlySet<Zone> | undefined;
  readonly groups: ReadonlySet<string> | undefined;
  readonly users: ReadonlySet<string> | undefined;
  readonly cidrs: net.BlockList | undefined;
  readonly authentication: ReadonlySet<string>;
  readonly secondFactor: boolean;
}

export interface CompiledPolicy {
  readonly config: PolicyConfig;
  readonly rules: readonly CompiledRule[];
}

export function compilePolicy(config: PolicyConfig): CompiledPolicy {
  return {
    config,
    rules: config.rules.map((r) => ({
      name: r.name,
      effect: r.effect,
      protocols: r.protocols ? new Set(r.protocols) : undefined,
      zones: r.zones ? new Set(r.zones) : undefined,
      groups: r.groups ? new Set(r.groups.map((g) => g.toLowerCase())) : undefined,
      users: r.users ? new Set(r.users.map((u) => u.toLowerCase())) : undefined,
      cidrs: r.clientCidrs ? blockListOf(r.clientCidrs.map((c) => parseCidr(c)!)) : undefined,
      authentication: new Set(r.authentication ?? ['user']),
      secondFactor: r.secondFactor === 'required',
    })),
  };
}

function principalMatches(rule: CompiledRule, subject: Subject): 'group' | 'user' | 'any' | false {
  if (!rule.authentication.has(subject.kind)) return false;
  if (!rule.groups && !rule.users) return 'any';
  if (subject.kind !== 'user') return false;
  const e = subject.entry;
  if (rule.users && (rule.users.has(e.key.toLowerCase()) || rule.users.has(e.upn.toLowerCase()))) return 'user';
  if (rule.groups && e.groups.some((g) => rule.groups!.has(g.toLowerCase()))) return 'group';
  return false;
}

function ruleMatches(rule: CompiledRule, req: AccessRequest): 'group' | 'user' | 'any' | false {
  if (rule.protocols && !rule.protocols.has(req.protocol)) return false;
  if (rule.zones && !rule.zones.has(req.zone)) return false;
  if (rule.cidrs) {
    const { address, family } = plainAddress(req.clientAddress);
    if (!rule.cidrs.check(address, family)) return false;
  }
  return principalMatches(rule, req.subject);
}

/** Decides one request. Deny overrides allow; user states come before any rule. */
export function evaluate(policy: CompiledPolicy, req: AccessRequest, states: UserStates): Decision {
  const s = req.subject;
  if (s.kind === 'user') {
    if (!s.entry.enabled) return deny(['user-disabled']);
    if (states.isRevoked(s.entry.key)) return deny(['revoked']);
    if (req.zone === 'external' && states.isLockedOut(s.entry.key)) return deny(['locked-out']);
  }
  if (s.kind === 'kerberos' && policy.config.kerberos === 'deny') return deny(['kerberos-denied']);
  let allowed: { rule: CompiledRule; how: 'group' | 'user' | 'any' } | undefined;
  let secondFactor = false;
  for (const rule of policy.rules) {
    const how = ruleMatches(rule, req);
    if (!how) continue;
    if (rule.effect === 'deny') return deny(['rule-deny'], rule.name);
    allowed ??= { rule, how };
    secondFactor ||= rule.secondFactor;
  }
  const extra: Reason[] = s.kind === 'kerberos' ? ['kerberos-unidentified'] : s.kind === 'unidentified' ? ['unidentified'] : [];
  const withFactor = (d: Decision): Decision => (secondFactor ? { ...d, secondFactor } : d);
  if (allowed) return withFactor(allow([allowed.how === 'group' ? 'group-ok' : 'rule-allow', ...extra], allowed.rule.name));
  if (policy.config.defaults[req.zone] === 'allow') return withFactor(allow(['default-allow', ...extra]));
  return deny([...(s.kind === 'user' ? (['not-in-group'] as Reason[]) : extra), 'default-deny']);
}
