// The gateway's own requests to Exchange: a browser session's sign-in (forms-based or a Basic
// check) and sign-out, and the credential check before an ActiveSync device is refused
// (src/devices/credential-probe.ts). Each goes over a connection of its own to the same
// upstream the client connections use (its TLS settings and CA), used once and closed.
import https from 'node:https';
import { type UpstreamTarget, connectUpstream } from './upstream-connect.js';

export interface ExchangeAnswer {
  readonly status: number;
  readonly location: string | undefined;
  readonly setCookies: readonly string[];
}

export interface ExchangeCall {
  readonly method: 'GET' | 'POST' | 'OPTIONS';
  readonly path: string;
  /** The Host the browser used: Exchange builds its redirects and cookies for that name. */
  readonly host: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** One request; rejects when Exchange cannot be reached or does not answer within `timeoutMs`. */
export function callExchange(target: UpstreamTarget, call: ExchangeCall, timeoutMs: number): Promise<ExchangeAnswer> {
  return new Promise((resolve, reject) => {
    const body = call.body === undefined ? undefined : Buffer.from(call.body, 'utf8');
    const req = https.request(
      {
        method: call.method,
        path: call.path,
        // No agent: the one connection this function makes, never a pooled one.
        createConnection: () => connectUpstream(target),
        headers: {
          Host: call.host,
          Connection: 'close',
          ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(body.length) } : {}),
          ...call.headers,
        },
        timeout: timeoutMs,
      },
      (res) => {
        // The body is never needed (a redirect or a status says everything): read and dropped.
        res.resume();
        res.on('end', () => {
          const sc = res.headers['set-cookie'];
          resolve({ status: res.statusCode ?? 0, location: typeof res.headers.location === 'string' ? res.headers.location : undefined, setCookies: sc ?? [] });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`Exchange did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
