// argon2id password hashes for console accounts (PHC strings, as `portcullis admin hash-password`
// prints them). Verification of an unknown account runs against a fixed dummy hash, so the
// answer takes as long as for a real one and does not tell which accounts exist.
import { hash, verify } from '@node-rs/argon2';

/** OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane). */
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

let dummy: Promise<string> | undefined;

/** True when the password matches; an undefined or malformed hash is checked against a dummy and fails. */
export async function verifyPassword(phc: string | undefined, password: string): Promise<boolean> {
  dummy ??= hashPassword('portcullis-console-no-such-account');
  const target = phc ?? (await dummy);
  try {
    const ok = await verify(target, password);
    return ok && phc !== undefined;
  } catch {
    return false;
  }
}
