import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { type Outcome, skip } from './check.js';
import { headerValue } from '../http/headers.js';
import { RawClient } from './http-probe.js';
import { type Peer, type TlsVersion, handshake } from './tls-probe.js';
import type { DoctorOptions, Finding } from './types.js';

/** Everything the checks share: where to connect, how to resolve, what earlier checks learned. */
export class ProbeContext {
  readonly host: string;
  readonly port: number;
  readonly domain: string;
  readonly resolver: Resolver;
  readonly ca: Array<string | Buffer> | undefined;
  /** Address the host resolved to (or the literal), once DNS ran. */
  address: string | undefined;
  reachable = false;
  /**
   * Set when a check found that no HTTP/1.1 request can get through at all (no usable TLS, an
   * HTTP/2-only front end): later checks skip with this pointer instead of repeating the same error.
   */
  blockedBy: string | undefined;
  /** Names in the certificate the gateway shows (lower-case). */
  certNames: string[] = [];
  /** The certificates as sent (leaf first), for the revocation check. */
  sentCerts: tls.PeerCertificate[] = [];
  credentialsRejected = false;
  /** The path closes the connection after an NTLM challenge, or loses the authenticated connection: NTLM cannot work. */
  ntlmBroken: 'AUTH-NTLM-CONNECTION-CLOSED' | 'AUTH-NTLM-AFFINITY-LOST' | undefined;
  /** Findings shared helpers (the login) raise while a check runs; the run attaches them to that check. */
  private raised: Finding[] = [];
  /** Set when a login used Basic: later requests on the same channel must carry it again. */
  basicAuthorization: string | undefined;
  autodiscover: { readonly xml: string; readonly rpcServer: string | undefined; readonly mapiHttp: boolean } | undefined;
  /** Why Autodiscover gave no answer (so the RPC checks can say their target is unknown, not blame the RPC proxy). */
  autodiscoverFailed: string | undefined;
  /** Server header and error pages seen, to name the intermediary (nginx, HAProxy, …) in a finding. */
  readonly serverHeaders = new Set<string>();
  /** The first Date header seen and when (for the clock check). */
  serverDate: { readonly date: string; readonly at: number } | undefined;

  constructor(readonly opts: DoctorOptions) {
    const u = new URL(opts.url);
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || 443);
    this.domain = opts.email?.split('@')[1]?.toLowerCase() ?? (net.isIP(this.host) ? this.host : this.host.split('.').slice(1).join('.'));
    this.resolver = new Resolver({ timeout: Math.min(opts.timeoutMs, 5000), tries: 1 });
    if (opts.resolver) this.resolver.setServers([opts.resolver]);
    this.ca = opts.ca ? [...tls.rootCertificates, readFileSync(opts.ca)] : undefined;
    if (net.isIP(this.host)) this.address = this.host;
  }

  raise(f: Finding): void {
    this.raised.push(f);
  }

  takeRaised(): Finding[] {
    return this.raised.splice(0);
  }

  /** A skip outcome when an earlier step showed that HTTP checks cannot run; undefined otherwise. */
  blocked(): Outcome | undefined {
    if (!this.reachable) return skip(`TCP connection to ${this.host}:${this.port} failed (see Network)`);
    if (this.blockedBy) return skip(this.blockedBy);
    return undefined;
  }

  /** Resolves a name through the configured resolver (A, then AAAA). */
  async resolve(name: string): Promise<string[]> {
    if (net.isIP(name)) return [name];
    const a = await this.resolver.resolve4(name).catch(() => [] as string[]);
    if (a.length) return a;
    return this.resolver.resolve6(name).catch(() => [] as string[]);
  }

  /** One TLS handshake with the published host (certificate not enforced: the TLS checks judge it). */
  handshake(version?: TlsVersion, alpn?: string[], host = this.host, address = this.address!, port = this.port): Promise<Peer> {
    return handshake({ host, address, port, ca: this.ca, timeoutMs: this.opts.timeoutMs, ...(version ? { version } : {}), ...(alpn ? { alpn } : {}) });
  }

  /** A new connection to the published host (SNI = host), certificate judged by the TLS checks. */
  async connect(host = this.host, port = this.port): Promise<RawClient> {
    const address = host === this.host ? this.address : (await this.resolve(host))[0];
    if (!address) throw new Error(`${host} does not resolve`);
    const c = await RawClient.open({ host: address, port, ...(net.isIP(host) ? {} : { servername: host }), timeoutMs: this.opts.timeoutMs });
    c.host = port === 443 ? host : `${host}:${port}`;
    c.onHead = (head) => {
      const server = headerValue(head.headers, 'server');
      if (server) this.serverHeaders.add(server);
      const date = headerValue(head.headers, 'date');
      if (date && this.serverDate === undefined) this.serverDate = { date, at: Date.now() };
    };
    return c;
  }

  get credentials(): { domain: string; user: string; password: string } | undefined {
    const { user, password } = this.opts;
    if (!user || password === undefined) return undefined;
    const bs = user.indexOf('\\');
    return bs >= 0 ? { domain: user.slice(0, bs), user: user.slice(bs + 1), password } : { domain: '', user, password };
  }
}
