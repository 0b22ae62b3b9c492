// The record of each finished or refused request: one log line and one `portcullis:request:end`
// event. A concealed refusal is logged with the reasons the client was not told, and every 401 or
// refusal carries the reference id the client saw.
import type { Logger } from 'pino';
import type { ConnectionContext, RequestInfo } from './connection-context.js';
import type { Exchange } from './exchange.js';
import type { Refusal } from './gate.js';
import { publishRequestEnd } from './request-events.js';

function userOf(conn: ConnectionContext): string | undefined {
  return (conn.identity ?? conn.pending)?.entry?.key;
}

/** A request Exchange answered (or that failed upstream): status and the reason, if any. */
export function logExchangeEnd(log: Logger, conn: ConnectionContext, ex: Exchange, status: number, reason: string | undefined): void {
  const reqBytes = ex.request.transferred;
  const resBytes = ex.response?.transferred ?? 0;
  const concealed = ex.concealed;
  const why = reason ?? concealed?.reasons.join(', ');
  publishRequestEnd(conn, ex.info, status, why, reqBytes, resBytes);
  log.info(
    {
      method: ex.info.method,
      path: ex.info.path,
      protocol: ex.info.protocol,
      user: userOf(conn),
      status,
      reason: why,
      ...(concealed ? { concealed: true, detail: concealed.detail } : {}),
      ...(ex.ref ? { ref: ex.ref } : {}),
      reqBytes,
      resBytes,
      ms: Date.now() - ex.info.startedAt,
    },
    concealed ? 'request refused (client sees an anonymous answer)' : 'request',
  );
}

/** A request the gateway answered itself. */
export function logRefusal(log: Logger, conn: ConnectionContext, info: RequestInfo | undefined, r: Refusal, reqBytes: number): void {
  publishRequestEnd(conn, info, r.status, r.reason, reqBytes, 0);
  log.info({ status: r.status, reason: r.reason, method: info?.method, path: info?.path, protocol: info?.protocol, user: userOf(conn), detail: r.message, ref: r.ref }, 'request refused');
}
