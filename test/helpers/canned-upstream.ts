// Stand-ins for Exchange or for a proxy in front of it, used only where the lab cannot be made to
// misbehave in the needed way (malformed, oversized or compressed answers; a proxy that answers
// 405 to RPC methods or buffers bodies).
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { testPki } from './env.js';

export interface Canned {
  readonly url: string;
  readonly port: number;
  /** Requests seen (heads only). */
  readonly seen: string[];
  stop(): Promise<void>;
}

export interface CannedOptions {
  /** Answer only once the whole declared body arrived (what a buffering proxy does). */
  readonly waitForBody?: boolean;
  /** Serve with this certificate pair instead of the lab's. */
  readonly identity?: 'lab' | 'gateway';
}

/** A TLS server answering each request head with `respond(head)`. */
export async function cannedServer(respond: (head: string) => Buffer, o: CannedOptions = {}): Promise<Canned> {
  const pki = await testPki();
  const [cert, key] = o.identity === 'gateway' ? [pki.gatewayCert, pki.gatewayKey] : [pki.labCert, pki.labKey];
  const seen: string[] = [];
  const server = tls.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (s) => {
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      const cl = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? '0');
      if ((o.waitForBody ?? true) && buf.length < end + 4 + cl) return;
      seen.push(head);
      buf = buf.slice(Math.min(buf.length, end + 4 + cl));
      s.write(respond(head));
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return { url: `https://127.0.0.1:${port}`, port, seen, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Answers every request with one canned response. */
export function cannedUpstream(response: Buffer): Promise<Canned> {
  return cannedServer(() => response);
}
