import { randomBytes } from 'node:crypto';

/**
 * A reference id a client may see on a refusal or a 401 and quote to the help desk; the log line
 * of that request carries the same id with the reason the client was not told. Random, so it
 * reveals nothing about connection counts or timing.
 */
export function newReferenceId(): string {
  return randomBytes(6).toString('hex');
}

export const REFERENCE_HEADER = 'X-Portcullis-Ref';
