// An admin's reset of a user's second factor, and its record: the actor and what was forgotten go
// on portcullis:user:second-factor-reset, which the audit recorder and the log subscriber turn into
// a record and a line. The target is the running gateway's service (admin API) or the store itself
// (`portcullis second-factor reset`, which works with the gateway down): both forget the same rows.
import { events, type SecondFactorResetEvent } from '../events.js';

export interface Resettable {
  reset(userKey: string): Promise<{ readonly totp: boolean; readonly passkeys: number }>;
}

export async function resetSecondFactor(target: Resettable, userKey: string, actor: string, now: () => number = Date.now): Promise<SecondFactorResetEvent> {
  const r = await target.reset(userKey);
  const e: SecondFactorResetEvent = { at: now(), user: userKey, actor, totp: r.totp, passkeys: r.passkeys };
  if (events.secondFactorReset.hasSubscribers) events.secondFactorReset.publish(e);
  return e;
}
