import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { RawClient } from './http-probe.js';
import type { DoctorOptions } from './types.js';

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
  /** Names in the certificate the gateway shows (lower-case). */
  certNames: string[] = [];
  credentialsRejected = false;
  /** Set when a login used Basic: later requests on the same channel must carry it again. */
  basicAuthorization: string | undefined;
  autodiscover: { readonly xml: string; readonly rpcServer: string | undefined; readonly mapiHttp: boolean } | undefined;

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

  /** Resolves a name through the configured resolver (A, then AAAA). */
  async resolve(name: string): Promise<string[]> {
    if (net.isIP(name)) return [name];
    const a = await this.resolver.resolve4(name).catch(() => [] as string[]);
    if (a.length) return a;
    return this.resolver.resolve6(name).catch(() => [] as string[]);
  }

  /** A new connection to the published host (SNI = host), certificate judged by the TLS checks. */
  async connect(host = this.host, port = this.port): Promise<RawClient> {
    const address = host === this.host ? this.address : (await this.resolve(host))[0];
    if (!address) throw new Error(`${host} does not resolve`);
    const c = await RawClient.open({ host: address, port, ...(net.isIP(host) ? {} : { servername: host }), timeoutMs: this.opts.timeoutMs });
    c.host = port === 443 ? host : `${host}:${port}`;
    return c;
  }

  get credentials(): { domain: string; user: string; password: string } | undefined {
    const { user, password } = this.opts;
    if (!user || password === undefined) return undefined;
    const bs = user.indexOf('\\');
    return bs >= 0 ? { domain: user.slice(0, bs), user: user.slice(bs + 1), password } : { domain: '', user, password };
  }
}
