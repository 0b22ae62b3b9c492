import pino, { type Logger } from 'pino';

/**
 * The gateway's structured log. Authorization, Cookie and Set-Cookie never reach it: the code
 * does not log headers at all, and the redaction below is the second line of defence.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { svc: 'portcullis' },
      redact: { paths: ['authorization', '*.authorization', 'cookie', '*.cookie', 'password', '*.password'], censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
