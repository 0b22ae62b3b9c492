import { fileErrorText } from '../config/file-errors.js';

// How a command ends when it cannot do its job. An admin gets one line that says what went wrong,
// where, and what to do, and a non-zero exit code; never a stack trace. A stack trace is only for
// a bug, and then only on request (--debug or PORTCULLIS_DEBUG=1): without it, a bug is still
// named as one ("unexpected error", exit 70) so that a test expecting a specific message fails.

export { fileErrorText };

/** A failure the admin can act on: its message is the whole answer. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** EX_SOFTWARE (sysexits.h): an internal error, i.e. a bug. */
export const BUG_EXIT = 70;

/** The one line (or, with debug, the stack) for an error that ended a command, and its exit code. */
export function describeFailure(e: unknown, debug: boolean): { text: string; exitCode: number } {
  if (e instanceof CliError) return { text: `portcullis: ${e.message}`, exitCode: e.exitCode };
  const file = fileErrorText(e);
  if (file && !debug) return { text: `portcullis: ${file}`, exitCode: 1 };
  if (debug) return { text: e instanceof Error ? (e.stack ?? String(e)) : String(e), exitCode: BUG_EXIT };
  const name = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e);
  return { text: `portcullis: unexpected error: ${name} (a bug: run again with --debug for the stack trace, and report it)`, exitCode: BUG_EXIT };
}

/** --debug anywhere on the command line, or PORTCULLIS_DEBUG=1. */
export function debugRequested(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): boolean {
  return argv.includes('--debug') || env['PORTCULLIS_DEBUG'] === '1';
}
