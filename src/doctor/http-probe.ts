// An HTTP/1.1 client on one TLS socket: the doctor and the tests control exactly which connection
// carries which request (NTLM state lives on the connection), and can send what browsers and Node's
// http cannot (RPC_IN_DATA, a 1 GiB Content-Length with no body). It parses with the product's own
// parsers, with a cap on what it keeps of a body.
import tls from 'node:tls';
import { ChunkedDecoder } from '../http/chunked.js';
import { responseFraming } from '../http/framing.js';
import { DEFAULT_HEAD_LIMITS } from '../http/head-scan.js';
import { headerValue } from '../http/headers.js';
import { type ResponseHead, parseResponseHead } from '../http/response-head.js';

export interface RawResponse {
  readonly head: ResponseHead;
  readonly body: Buffer;
  header(name: string): string | undefined;
}

export class RawClient {
  private buf: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;
  /** Host header for request(); set by the caller. */
  host = 'mail.lab.example';
  /** Called with every final response head (the doctor notes Server headers and clocks). */
  onHead: ((head: ResponseHead) => void) | undefined;
  private constructor(readonly socket: tls.TLSSocket) {
    socket.on('data', (b: Buffer) => {
      this.buf = Buffer.concat([this.buf, b]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, ca?: string, servername = 'mail.lab.example'): Promise<RawClient> {
    return RawClient.open({ host: '127.0.0.1', port, servername, ...(ca ? { ca } : {}) });
  }

  /** Opens a TLS connection; without `ca` the certificate is not verified (the doctor judges it itself). */
  static open(o: { host: string; port: number; servername?: string; ca?: string | Buffer; timeoutMs?: number }): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: o.host, port: o.port, ...(o.servername ? { servername: o.servername } : {}), ...(o.ca ? { ca: o.ca } : { rejectUnauthorized: false }), ALPNProtocols: ['http/1.1'] }, () => {
        clearTimeout(t);
        resolve(new RawClient(s));
      });
      const t = setTimeout(() => s.destroy(new Error('TLS handshake timed out')), o.timeoutMs ?? 10_000);
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  /** What arrived and was not yet read as a response (a test names it when a held request ended early). */
  get unread(): string {
    return this.buf.toString('latin1');
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async more(timeoutMs: number): Promise<void> {
    if (this.closed) throw new Error('connection closed');
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for bytes')), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next response head; 1xx heads are skipped unless `interim` is set. */
  private async nextHead(timeoutMs: number, interim: boolean): Promise<ResponseHead> {
    for (;;) {
      const r = parseResponseHead(this.buf, DEFAULT_HEAD_LIMITS);
      if (r.kind === 'error') throw new Error(r.error.message);
      if (r.kind === 'incomplete') {
        await this.more(timeoutMs);
        continue;
      }
      this.buf = this.buf.subarray(r.consumed);
      if (r.head.status >= 200) this.onHead?.(r.head);
      if (r.head.status >= 200 || interim) return r.head;
    }
  }

  /** Reads one response (skipping 1xx unless `interim` is set). */
  async read(method = 'GET', timeoutMs = 10_000, interim = false): Promise<RawResponse> {
    const head = await this.nextHead(timeoutMs, interim);
    {
      const framing = responseFraming(head, method);
      if ('code' in framing) throw new Error(framing.message);
      const parts: Buffer[] = [];
      if (framing.kind === 'length') {
        while (this.buf.length < framing.length) await this.more(timeoutMs);
        parts.push(this.buf.subarray(0, framing.length));
        this.buf = this.buf.subarray(framing.length);
      } else if (framing.kind === 'chunked') {
        const d = new ChunkedDecoder();
        for (;;) {
          const out = d.push(this.buf);
          parts.push(...out.data.map((x) => Buffer.from(x)));
          this.buf = this.buf.subarray(out.consumed);
          if (out.error) throw new Error(out.error.message);
          if (out.done) break;
          await this.more(timeoutMs);
        }
      } else if (framing.kind === 'close') {
        while (!this.closed) await this.more(timeoutMs).catch(() => undefined);
        parts.push(this.buf);
        this.buf = Buffer.alloc(0);
      }
      return { head, body: Buffer.concat(parts), header: (n) => headerValue(head.headers, n) };
    }
  }

  async request(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<RawResponse> {
    const b = body === undefined ? undefined : Buffer.from(body);
    const hs = { Host: this.host, ...headers, ...(b ? { 'Content-Length': String(b.length) } : {}) };
    this.write(`${method} ${path} HTTP/1.1\r\n${Object.entries(hs).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
    if (b) this.write(b);
    return this.read(method);
  }

  /** Reads only a response head (skipping 1xx); the body stays unread for readExact(). */
  readHead(timeoutMs = 10_000): Promise<ResponseHead> {
    return this.nextHead(timeoutMs, false);
  }

  /** Reads exactly n body bytes. */
  async readExact(n: number, timeoutMs = 10_000): Promise<Buffer> {
    while (this.buf.length < n) await this.more(timeoutMs);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return Buffer.from(out);
  }

  /** Resolves when the peer closes the connection. */
  waitClosed(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve();
      const t = setTimeout(() => reject(new Error('connection not closed')), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
