/**
 * Stable error codes for everything the HTTP engine refuses. Each code maps to the status the
 * gateway answers with; the message is for logs and the short plain-text body.
 */
export type HttpErrorCode =
  | 'HEAD_TOO_LARGE'
  | 'TOO_MANY_HEADERS'
  | 'NUL_BYTE'
  | 'BARE_CR'
  | 'BARE_LF'
  | 'BAD_REQUEST_LINE'
  | 'BAD_METHOD'
  | 'BAD_TARGET'
  | 'UNSUPPORTED_VERSION'
  | 'BAD_STATUS_LINE'
  | 'BAD_HEADER_NAME'
  | 'WHITESPACE_BEFORE_COLON'
  | 'OBS_FOLD'
  | 'BAD_HEADER_VALUE'
  | 'MISSING_HOST'
  | 'DUPLICATE_HOST'
  | 'CL_AND_TE'
  | 'DUPLICATE_CONTENT_LENGTH'
  | 'BAD_CONTENT_LENGTH'
  | 'CONTENT_LENGTH_TOO_LARGE'
  | 'BAD_TRANSFER_ENCODING'
  | 'TE_IN_HTTP10'
  | 'BAD_CHUNK_SIZE'
  | 'BAD_CHUNK_DATA'
  | 'BAD_TRAILER'
  | 'TRAILER_TOO_LARGE';

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
