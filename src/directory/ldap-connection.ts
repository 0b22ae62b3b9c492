// One LDAP connection as the pool holds it: opened, upgraded with StartTLS where configured, bound
// (service connections) or left anonymous (password-check connections), every operation counted.
// ldapts silently re-opens a closed socket on the next operation, unbound and, after StartTLS,
// unencrypted; a pooled connection must never do that, so each socket factory works once and a
// lost connection is replaced by the pool instead.
import net from 'node:net';
import tls from 'node:tls';
import { Client, ResultCodeError, type SearchOptions, type SearchResult } from 'ldapts';
import type { OpCounter } from './directory-stats.js';
import type { Poolable } from './connection-pool.js';

export interface Endpoint {
  readonly url: string;
  readonly startTls: boolean;
  readonly tls: { readonly ca?: Buffer; readonly rejectUnauthorized: boolean };
  readonly timeoutMs: number;
}

/** LDAP result codes that mean "this server is in trouble", not "here is your answer". */
const SERVER_TROUBLE = new Set([
  1, // operationsError: Samba's answer on a connection that lost its bind
  51, // busy
  52, // unavailable
]);

/** True for failures of the server or the connection (time-outs, resets, TLS, busy), false for LDAP answers. */
export function isServerFailure(e: unknown): boolean {
  return !(e instanceof ResultCodeError) || SERVER_TROUBLE.has(e.code);
}

/** What the rest of the directory needs from a pooled connection (tests pass fakes). */
export interface LdapSession extends Poolable {
  bind(dn: string, password: string): Promise<void>;
  search(base: string, options: SearchOptions): Promise<SearchResult>;
  /** A base read proving an idle connection still works; counted apart from the lookups' searches. */
  check(base: string): Promise<void>;
}

export class LdapConnection implements LdapSession {
  private destroyed = false;

  private constructor(
    readonly client: Client,
    private readonly counter: OpCounter,
    private readonly mustBeBound: boolean,
  ) {}

  /** Connects (and StartTLS on ldap://); binds when `bind` is given. Rejects on any failure. */
  static async open(ep: Endpoint, counter: OpCounter, bind?: { dn: string; password: string }): Promise<LdapConnection> {
    const ldaps = ep.url.startsWith('ldaps://');
    const once = <F extends (...a: never[]) => unknown>(f: F): F => {
      let used = false;
      return ((...a: never[]) => {
        if (used) throw new Error('LDAP connection lost');
        used = true;
        return f(...a);
      }) as F;
    };
    const client = new Client({
      url: ep.url,
      timeout: ep.timeoutMs,
      connectTimeout: ep.timeoutMs,
      // ldapts speaks implicit TLS whenever tlsOptions are given, even on ldap://: only for ldaps.
      ...(ldaps ? { tlsOptions: { ...ep.tls } } : {}),
      createConnection: once(net.connect),
      createSecureConnection: once(tls.connect),
    });
    const c = new LdapConnection(client, counter, bind !== undefined);
    try {
      counter.count('connect');
      if (!ldaps && ep.startTls) {
        counter.count('startTls');
        await client.startTLS({ ...ep.tls }); // a copy: ldapts writes the socket into it
      }
      if (bind) await c.bind(bind.dn, bind.password);
      return c;
    } catch (e) {
      c.destroy();
      throw e;
    }
  }

  get usable(): boolean {
    return !this.destroyed && this.client.isConnected && (!this.mustBeBound || this.client.isBound);
  }

  bind(dn: string, password: string): Promise<void> {
    this.counter.count('bind');
    return this.client.bind(dn, password);
  }

  search(base: string, options: SearchOptions): Promise<SearchResult> {
    this.counter.count('search');
    return this.client.search(base, options);
  }

  check(base: string): Promise<void> {
    this.counter.count('healthCheck');
    return this.client.search(base, { scope: 'base', filter: '(objectClass=*)', attributes: ['1.1'] }).then(() => undefined);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.client.unbind().catch(() => {});
  }
}
