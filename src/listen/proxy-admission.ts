// Reads the PROXY protocol header off an accepted socket before TLS sees a byte: bounded in time
// (proxyHeaderTimeout, and the guard's absolute handshake deadline behind it) and in size (the
// parser refuses a v1 line over 107 bytes or a v2 header over its bound as soon as it knows).
import type net from 'node:net';
import type { ConnectionEndCause } from '../events.js';
import { clientOfHeader, parseProxyHeader } from './proxy-header.js';

export type ProxyAdmission =
  | { readonly ok: true; readonly client: { readonly address: string; readonly port: number } | undefined; readonly version: 1 | 2 }
  | { readonly ok: false; readonly cause: ConnectionEndCause; readonly message: string };

/**
 * Waits for the header; on success the bytes after it (the start of the ClientHello) are put back
 * on the paused socket for TLS to read. `client` is undefined for the proxy's own connections
 * (LOCAL, v1 UNKNOWN: health checks), which are served as coming from the proxy.
 */
export function readProxyHeader(raw: net.Socket, timeoutMs: number): Promise<ProxyAdmission> {
  return new Promise((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    const finish = (r: ProxyAdmission, rest?: Buffer) => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('close', onClose);
      raw.pause();
      if (rest && rest.length > 0) raw.unshift(rest);
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const r = parseProxyHeader(buf);
      if (r.kind === 'incomplete') return;
      if (r.kind === 'error') return finish({ ok: false, cause: 'proxy-invalid', message: r.message });
      const who = clientOfHeader(r.header);
      if (who.kind === 'refuse') return finish({ ok: false, cause: 'proxy-invalid', message: who.message });
      finish({ ok: true, client: who.kind === 'client' ? { address: who.address, port: who.port } : undefined, version: r.header.version }, buf.subarray(r.length));
    };
    const onClose = () => finish({ ok: false, cause: 'handshake-aborted', message: 'closed before a complete PROXY header' });
    const timer = setTimeout(() => finish({ ok: false, cause: 'proxy-timeout', message: `no complete PROXY header within ${timeoutMs} ms` }), timeoutMs);
    raw.on('data', onData);
    raw.once('close', onClose);
  });
}
