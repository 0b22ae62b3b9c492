/**
 * Stable error codes for everything the HTTP engine refuses. Each code maps to the status the
 * gateway answers with; the message is for logs and the short plain-text body.
 */
import type { HttpErrorCode } from '../vocabulary/reasons.js';

export type { HttpErrorCode };

export interface HttpError {
  readonly code: HttpErrorCode;
  readonly message: string;
}

const STATUS: Partial<Record<HttpErrorCode, number>> = {
  HEAD_TOO_LARGE: 431,
  TOO_MANY_HEADERS: 431,
  UNSUPPORTED_VERSION: 505,
  CONTENT_LENGTH_TOO_LARGE: 413,
};

/** The status a client gets for a request the engine refuses (400 unless more specific). */
export function statusForError(code: HttpErrorCode): number {
  return STATUS[code] ?? 400;
}

export function httpError(code: HttpErrorCode, message: string): HttpError {
  return { code, message };
}
