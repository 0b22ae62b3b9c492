import type { ReasonCode } from './reasons.js';

/** A gate's answer with its named reasons: the same in logs, audit, metrics and refusals. */
export interface Decision {
  readonly allow: boolean;
  /** Stable reason codes, most important first. */
  readonly reasons: readonly ReasonCode[];
  /** The rule that decided, when one did. */
  readonly rule?: string;
  /**
   * A matching rule asks for a second factor (`secondFactor: required`): a browser signing in at
   * the gateway must give one before the session reaches Exchange (src/signin).
   */
  readonly secondFactor?: boolean;
}
