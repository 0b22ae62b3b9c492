// A file that cannot be read, in two or three words: `nope.yaml: not found`, not an errno dump.

const SYSTEM_ERRORS: Record<string, string> = {
  ENOENT: 'not found',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  EMFILE: 'too many open files (raise ulimit -n)',
};

/** What went wrong reading a file ("not found", "permission denied"), or undefined for other errors. */
export function fileErrorWords(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code ? SYSTEM_ERRORS[code] : undefined;
}

/** `path: not found` for an error from node:fs, else undefined. */
export function fileErrorText(e: unknown, file?: string): string | undefined {
  const what = fileErrorWords(e);
  return what ? `${file ?? (e as NodeJS.ErrnoException).path ?? 'file'}: ${what}` : undefined;
}
