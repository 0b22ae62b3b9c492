// One TLS handshake as a probe: the certificate chain as the server sent it, the trust verdict, the
// protocol and ALPN. Legacy versions (TLS 1.0/1.1) are allowed only when asked for, and then only for
// that one handshake: OpenSSL 3 refuses them at its default security level, so the probe lowers it
// (`DEFAULT@SECLEVEL=0`) to learn what an old server offers, never to talk to it afterwards.
import net from 'node:net';
import tls from 'node:tls';

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface Peer {
  readonly cert: tls.DetailedPeerCertificate;
  readonly authorized: boolean;
  /** OpenSSL's verification code (UNABLE_TO_VERIFY_LEAF_SIGNATURE, …) or Node's name error. */
  readonly error: string | undefined;
  readonly protocol: string | null;
  readonly cipher: string;
  readonly alpn: string | false;
}

export interface HandshakeOptions {
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly ca: Array<string | Buffer> | undefined;
  readonly timeoutMs: number;
  readonly version?: TlsVersion;
  readonly alpn?: string[];
}

export function handshake(o: HandshakeOptions): Promise<Peer> {
  const legacy = o.version === 'TLSv1' || o.version === 'TLSv1.1';
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      {
        host: o.address,
        port: o.port,
        ...(net.isIP(o.host) ? {} : { servername: o.host }),
        rejectUnauthorized: false,
        ...(o.ca ? { ca: o.ca } : {}),
        ...(o.version ? { minVersion: o.version, maxVersion: o.version } : {}),
        ...(legacy ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
        ...(o.alpn ? { ALPNProtocols: o.alpn } : {}),
      },
      () => {
        const e = s.authorizationError as unknown;
        const code = e ? String((e as NodeJS.ErrnoException).code ?? (e as Error).message ?? e) : undefined;
        resolve({ cert: s.getPeerCertificate(true), authorized: s.authorized, error: code, protocol: s.getProtocol(), cipher: s.getCipher()?.name ?? '?', alpn: s.alpnProtocol ?? false });
        s.destroy();
      },
    );
    s.setTimeout(o.timeoutMs, () => s.destroy(new Error('TLS handshake timed out')));
    s.once('error', reject);
  });
}

/**
 * OpenSSL's error text without the noise: "…:SSL routines:ssl3_read_bytes:tlsv1 alert protocol
 * version:../deps/…:SSL alert number 70" becomes "tlsv1 alert protocol version (alert 70)".
 */
export function shortTlsError(message: string): string {
  const reason = /SSL routines:[^:]*:([^:]+):/.exec(message)?.[1];
  if (!reason) return message.split('\n')[0]!.trim();
  const alert = /SSL alert number (\d+)/.exec(message)?.[1];
  return `${reason}${alert ? ` (alert ${alert})` : ''}`;
}

/** The certificates as the server sent them: leaf first, stopping before anything taken from the local trust store. */
export function sentChain(leaf: tls.DetailedPeerCertificate, trusted: ReadonlySet<string>): tls.DetailedPeerCertificate[] {
  const out: tls.DetailedPeerCertificate[] = [];
  const seen = new Set<string>();
  let c: tls.DetailedPeerCertificate | undefined = leaf;
  while (c && c.fingerprint256 && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    if (out.length > 0 && trusted.has(c.fingerprint256)) break;
    out.push(c);
    c = c.issuerCertificate;
  }
  return out;
}
