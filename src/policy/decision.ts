import type { Decision } from '../vocabulary/decision.js';
import type { PolicyReason } from '../vocabulary/reasons.js';

export { POLICY_REASONS as REASONS } from '../vocabulary/reasons.js';
export type { Decision } from '../vocabulary/decision.js';
/** The reasons the policy and the access gate decide on (the typed list of every code: src/vocabulary/reasons.ts). */
export type Reason = PolicyReason;

export function allow(reasons: Reason[], rule?: string): Decision {
  return rule ? { allow: true, reasons, rule } : { allow: true, reasons };
}

export function deny(reasons: Reason[], rule?: string): Decision {
  return rule ? { allow: false, reasons, rule } : { allow: false, reasons };
}

