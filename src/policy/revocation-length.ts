// How long a revocation may be given for. An operator's typo (minutes: 200000000000) once made a
// revocation whose end no Date and no SQLite integer read back could hold: the gateway crashed
// writing its audit record and then refused to start on its own state file. A revocation without an
// end is "until lifted"; one with an end is bounded here (1 minute to five years), at every way in
// (API, console, CLI) and again where revocations are made.

/** Five years: longer is "until lifted" (give no minutes). */
export const MAX_REVOKE_MINUTES = 5 * 365 * 24 * 60;

/** The problem with a requested length in minutes, or undefined when it is one a revocation may have. */
export function revokeMinutesProblem(minutes: unknown): string | undefined {
  if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes <= 0) return 'minutes must be a positive number';
  // A revocation of a millionth of a minute replaced a lasting one and ended at once (an outside attack).
  if (minutes < 1) return 'minutes must be at least 1';
  if (minutes > MAX_REVOKE_MINUTES) return `minutes must be at most ${MAX_REVOKE_MINUTES} (five years); give none to revoke until lifted`;
  return undefined;
}
