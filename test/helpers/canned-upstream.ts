// A stand-in for Exchange that answers every request with one canned response. Used only where
// the lab cannot be made to misbehave in the needed way (malformed, oversized, compressed answers).
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { testPki } from './env.js';
import { readFileSync } from 'node:fs';

export interface Canned {
  readonly url: string;
  /** Requests seen (heads only). */
  readonly seen: string[];
  stop(): Promise<void>;
}

export async function cannedUpstream(response: Buffer): Promise<Canned> {
  const pki = await testPki();
  const seen: string[] = [];
  const server = tls.createServer({ cert: readFileSync(pki.labCert), key: readFileSync(pki.labKey) }, (s) => {
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      const cl = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? '0');
      if (buf.length < end + 4 + cl) return;
      seen.push(head);
      buf = buf.slice(end + 4 + cl);
      s.write(response);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
