// The lab's HTTP server, on the gateway's own parsers: Node's http server refuses RPC_IN_DATA,
// and an RPC channel is a request whose body streams for hours while the response streams back.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { gzipSync } from 'node:zlib';
import type tls from 'node:tls';
import { statusForError } from '../http/errors.js';
import { requestFraming } from '../http/framing.js';
import { type HeaderField, headerTokens, headerValue } from '../http/headers.js';
import { type RequestHead, parseRequestHead } from '../http/request-head.js';
import { serializeHead, simpleResponse } from '../http/serialize.js';
import { statusPhrase } from '../http/status-phrases.js';
import { normalizeTarget } from '../classify/normalize-path.js';
import { BodyRelay, type ByteSink } from '../forward/body-relay.js';
import { DEFAULT_HEAD_LIMITS } from '../http/head-scan.js';

let nextConnection = 1;

/** State the lab keeps per TCP connection, like IIS: NTLM authenticates the connection. */
export class LabConnection {
  readonly id = nextConnection++;
  /** `DOMAIN\user` once an NTLM or Negotiate handshake succeeded on this connection. */
  identity: string | undefined;
  ntlmChallenge: { serverChallenge: Buffer; scheme: string } | undefined;
  constructor(readonly socket: tls.TLSSocket) {}
}

/**
 * A request whose body is delivered to one consumer. Bytes that arrive before the handler has
 * finished authenticating are queued (bounded), so an async handler loses nothing.
 */
export class LabRequest extends EventEmitter {
  /** Identity of this request: Basic per request, or the connection's NTLM identity. */
  identity: string | undefined;
  /** Headers the authentication step adds to whatever the handler answers. */
  readonly responseHeaders: HeaderField[] = [];
  bodyDone = false;
  received = 0;
  private queue: Buffer[] = [];
  private queued = 0;
  private consumer: { data: (b: Buffer) => void; end: () => void } | undefined;
  constructor(
    readonly conn: LabConnection,
    readonly head: RequestHead,
    readonly path: string,
    readonly query: string,
    readonly contentLength: number | undefined,
  ) {
    super();
  }

  get method(): string {
    return this.head.method;
  }

  header(name: string): string | undefined {
    return headerValue(this.head.headers, name);
  }

  pushData(b: Buffer): void {
    this.received += b.length;
    if (this.consumer) this.consumer.data(b);
    else if (this.queued < 4 * 1024 * 1024) {
      this.queue.push(b);
      this.queued += b.length;
    }
  }

  pushEnd(): void {
    this.bodyDone = true;
    this.consumer?.end();
  }

  /** Takes over the body: queued bytes first, then live ones. */
  consume(data: (b: Buffer) => void, end: () => void = () => {}): void {
    this.consumer = { data, end };
    const q = this.queue;
    this.queue = [];
    for (const b of q) data(b);
    if (this.bodyDone) end();
  }

  /** Collects a small body (up to `max` bytes). */
  body(max = 1024 * 1024): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let n = 0;
      this.consume(
        (b) => {
          n += b.length;
          if (n <= max) parts.push(b);
        },
        () => (n > max ? reject(new Error('request body too large for the lab')) : resolve(Buffer.concat(parts))),
      );
    });
  }
}

/**
 * What Exchange's IIS, ASP.NET and front-end proxy add to every answer: server names, versions
 * and the back end's status, and a request-id unique to each answer. The gateway must keep them
 * from external clients (edge.responseHeaders).
 */
function exchangeDiagnostics(status: number): HeaderField[] {
  return [
    { name: 'Server', value: 'Microsoft-IIS/10.0' },
    { name: 'request-id', value: randomUUID() },
    { name: 'X-CalculatedBETarget', value: 'exch01.lab.local' },
    { name: 'X-BackEndHttpStatus', value: String(status) },
    { name: 'X-DiagInfo', value: 'EXCH01' },
    { name: 'X-BEServer', value: 'EXCH01' },
    { name: 'X-OWA-Version', value: '15.2.1544.4' },
    { name: 'X-AspNet-Version', value: '4.0.30319' },
    { name: 'X-Powered-By', value: 'ASP.NET' },
    { name: 'X-FEServer', value: 'EXCH01' },
  ];
}

export class LabResponse {
  headSent = false;
  ended = false;
  status = 0;
  private chunked = false;
  constructor(
    private readonly req: LabRequest,
    private readonly socket: tls.TLSSocket,
    private readonly onEnd: () => void,
  ) {}

  writeContinue(): void {
    if (!this.headSent && /100-continue/i.test(this.req.header('expect') ?? '')) {
      this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
  }

  /** Sends the head; without Content-Length the body is chunked. X-Lab-Identity is always added. */
  writeHead(status: number, reason: string, headers: HeaderField[] = [], version = '1.1'): void {
    if (this.headSent) throw new Error('head already sent');
    this.headSent = true;
    this.status = status;
    const hs = [...headers, ...this.req.responseHeaders, ...exchangeDiagnostics(status)];
    const identity = this.req.identity ?? this.req.conn.identity;
    if (identity) hs.push({ name: 'X-Lab-Identity', value: identity });
    if (!hs.some((h) => h.name.toLowerCase() === 'content-length') && status !== 204 && status !== 304 && this.req.method !== 'HEAD') {
      this.chunked = true;
      hs.push({ name: 'Transfer-Encoding', value: 'chunked' });
    }
    this.socket.write(serializeHead(`HTTP/${version} ${status} ${reason}`, hs));
  }

  write(data: Buffer | string): boolean {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    if (b.length === 0 || this.socket.destroyed) return true;
    if (!this.chunked) return this.socket.write(b);
    this.socket.write(`${b.length.toString(16)}\r\n`);
    this.socket.write(b);
    return this.socket.write('\r\n');
  }

  end(data?: Buffer | string): void {
    if (this.ended) return;
    if (data !== undefined) this.write(data);
    if (this.chunked && !this.socket.destroyed) this.socket.write('0\r\n\r\n');
    this.ended = true;
    this.onEnd();
  }

  /** A whole response in one call; gzip when the client accepts it and `compress` is set (IIS dynamic compression). */
  send(status: number, reason: string, body: string | Buffer, contentType: string, headers: HeaderField[] = [], compress = false): void {
    let b = typeof body === 'string' ? Buffer.from(body) : body;
    if (compress && /\bgzip\b/i.test(this.req.header('accept-encoding') ?? '')) {
      b = gzipSync(b);
      headers = [...headers, { name: 'Content-Encoding', value: 'gzip' }, { name: 'Vary', value: 'Accept-Encoding' }];
    }
    this.writeHead(status, reason, [...headers, { name: 'Content-Type', value: contentType }, { name: 'Content-Length', value: String(b.length) }]);
    if (this.req.method !== 'HEAD' && b.length > 0) this.socket.write(b);
    this.ended = true;
    this.onEnd();
  }

  get writable(): tls.TLSSocket {
    return this.socket;
  }
}

export type LabHandler = (req: LabRequest, res: LabResponse) => void | Promise<void>;

/** Serves one TLS connection: requests one after another, bodies streamed to the handler. */
export function serveLabConnection(socket: tls.TLSSocket, handler: LabHandler, onError: (e: Error) => void): LabConnection {
  const conn = new LabConnection(socket);
  let buf: Buffer = Buffer.alloc(0);
  let resume = 0;
  let current: { req: LabRequest; res: LabResponse; relay: BodyRelay } | undefined;
  const sink = (req: LabRequest): ByteSink => ({
    write: (b) => {
      req.pushData(b);
      return true;
    },
    cork: () => {},
    uncork: () => {},
  });
  const finishIfDone = () => {
    if (!current || !current.res.ended || !current.req.bodyDone) return;
    const close = headerTokens(current.req.head.headers, 'connection').includes('close');
    current = undefined;
    if (close) socket.end();
    else if (buf.length > 0) setImmediate(() => pump(Buffer.alloc(0)));
  };
  const pump = (chunk: Buffer): void => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length > 0) {
      if (!current) {
        const r = parseRequestHead(buf, DEFAULT_HEAD_LIMITS, resume);
        if (r.kind === 'incomplete') {
          resume = r.resumeAt;
          return;
        }
        resume = 0;
        if (r.kind === 'error') {
          socket.end(simpleResponse(statusForError(r.error.code), statusPhrase(statusForError(r.error.code)), r.error.message));
          return;
        }
        buf = buf.subarray(r.consumed);
        const framing = requestFraming(r.head);
        const n = normalizeTarget(r.head.target);
        if ('code' in framing || !n.ok) {
          socket.end(simpleResponse(400, statusPhrase(400), 'bad request'));
          return;
        }
        const req = new LabRequest(conn, r.head, n.path, n.query, framing.kind === 'length' ? framing.length : framing.kind === 'none' ? 0 : undefined);
        const res = new LabResponse(req, socket, () => finishIfDone());
        const relay = new BodyRelay(framing, sink(req));
        current = { req, res, relay };
        try {
          Promise.resolve(handler(req, res)).catch((e: Error) => fail(e));
        } catch (e) {
          fail(e as Error);
        }
        function fail(e: Error): void {
          onError(e);
          if (!res.headSent) res.send(500, 'Internal Server Error', `lab error: ${e.message}\n`, 'text/plain');
          else socket.destroy();
        }
        if (relay.done) {
          req.pushEnd();
          finishIfDone();
        }
      } else if (!current.req.bodyDone) {
        const step = current.relay.push(buf);
        buf = buf.subarray(step.consumed);
        if (step.error) {
          socket.destroy();
          return;
        }
        if (step.done) {
          current.req.pushEnd();
          finishIfDone();
        }
      } else {
        return; // pipelined: wait for the response to finish
      }
    }
  };
  socket.on('data', (b: Buffer) => pump(b));
  socket.on('error', () => {});
  socket.on('close', () => current?.req.emit('close'));
  return conn;
}
