import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client, InvalidCredentialsError } from 'ldapts';
import type { Logger } from 'pino';
import type { LdapConfig } from './directory-config.js';
import { type Claim, type DirectoryEntry, type DirectoryProvider, type LookupResult, claimForm } from './provider.js';

/** RFC 4515 escaping for values inside a search filter. */
export function escapeFilter(v: string): string {
  return v.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const IN_CHAIN = '1.2.840.113556.1.4.1941';
const UF_ACCOUNTDISABLE = 0x2;

interface Cached {
  readonly result: LookupResult;
  readonly at: number;
  readonly dn: string | undefined;
  lastUsed: number;
}

type Form = Exclude<ReturnType<typeof claimForm>, { kind: 'unknown-domain' }>;

/**
 * Users and nested groups from Active Directory or OpenLDAP. Results are cached for `cacheTtl`
 * and refreshed in the background; when the directory cannot be reached, cached results keep
 * serving for `gracePeriod`, after which lookups fail closed ('unavailable').
 */
export class LdapDirectory implements DirectoryProvider {
  readonly name = 'ldap';
  readonly domains: DirectoryProvider['domains'];
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<Cached>>();
  private readonly listeners: Array<() => void> = [];
  private readonly password: string;
  private readonly tls: { ca?: Buffer; rejectUnauthorized: boolean };
  private readonly hmacKey = randomBytes(32);
  private readonly passwordCache = new Map<string, { salt: Buffer; mac: Buffer; until: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly cfg: LdapConfig,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.domains = { netbios: [cfg.netbiosDomain.toLowerCase()], upnSuffixes: cfg.upnSuffixes.map((s) => s.toLowerCase()) };
    this.password = cfg.bindPassword ?? readFileSync(cfg.bindPasswordFile!, 'utf8').trim();
    this.tls = { ...(cfg.ca ? { ca: readFileSync(cfg.ca) } : {}), rejectUnauthorized: !cfg.insecure };
    if (cfg.insecure) log.warn({ url: cfg.url }, 'LDAP TLS VERIFICATION IS DISABLED (directory.insecure)');
    this.timer = setInterval(() => void this.refresh(), Math.max(1000, cfg.cacheTtl));
    this.timer.unref();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  async lookup(claim: Claim): Promise<LookupResult> {
    const form = claimForm(claim, this.domains);
    if (form.kind === 'unknown-domain') return { status: 'unknown-domain' };
    const key = form.kind === 'upn' ? `upn:${form.upn.toLowerCase()}` : `sam:${form.sam.toLowerCase()}`;
    const c = this.cache.get(key);
    const now = this.now();
    if (c) {
      c.lastUsed = now;
      if (now - c.at < this.cfg.cacheTtl) return c.result;
    }
    const fresh = await this.fetchOnce(key, form);
    if (fresh.result.status !== 'unavailable') return fresh.result;
    if (c && now - c.at < this.cfg.cacheTtl + this.cfg.gracePeriod) {
      this.log.warn({ reason: fresh.result.reason }, 'directory unreachable: serving a cached answer within the grace period');
      return c.result;
    }
    return fresh.result;
  }

  async verifyPassword(entry: DirectoryEntry, password: string): Promise<'ok' | 'bad-password' | 'unavailable'> {
    // An empty password is an unauthenticated bind, which LDAP servers "accept": never a login.
    if (password.length === 0) return 'bad-password';
    const cached = this.passwordCache.get(entry.key);
    const now = this.now();
    if (cached && cached.until > now) {
      const mac = createHmac('sha256', this.hmacKey).update(cached.salt).update(password).digest();
      if (timingSafeEqual(mac, cached.mac)) return 'ok';
    }
    const dn = [...this.cache.values()].find((c) => c.result.status === 'found' && c.result.entry.key === entry.key)?.dn;
    if (!dn) return 'unavailable';
    const client = this.client();
    try {
      if (this.cfg.startTls) await client.startTLS({ ...this.tls }); // a copy: ldapts writes the socket into it
      await client.bind(dn, password);
      const salt = randomBytes(16);
      this.passwordCache.set(entry.key, { salt, mac: createHmac('sha256', this.hmacKey).update(salt).update(password).digest(), until: now + 5 * 60_000 });
      return 'ok';
    } catch (e) {
      if (e instanceof InvalidCredentialsError) {
        this.passwordCache.delete(entry.key);
        return 'bad-password';
      }
      this.log.warn({ err: (e as Error).message }, 'LDAP password check failed');
      return 'unavailable';
    } finally {
      await client.unbind().catch(() => {});
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
  }

  private client(): Client {
    // ldapts speaks implicit TLS whenever tlsOptions are given, even on ldap://: only for ldaps.
    const ldaps = this.cfg.url.startsWith('ldaps://');
    return new Client({ url: this.cfg.url, timeout: this.cfg.timeout, connectTimeout: this.cfg.timeout, ...(ldaps ? { tlsOptions: { ...this.tls } } : {}) });
  }

  private fetchOnce(key: string, form: Form): Promise<Cached> {
    let p = this.inflight.get(key);
    if (!p) {
      p = this.fetch(form).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
      void p.then((c) => {
        if (c.result.status !== 'unavailable') this.cache.set(key, c);
      });
    }
    return p;
  }

  private async fetch(form: Form): Promise<Cached> {
    const now = this.now();
    const client = this.client();
    const ad = this.cfg.flavor === 'ad';
    try {
      if (this.cfg.startTls) await client.startTLS({ ...this.tls }); // a copy: ldapts writes the socket into it
      await client.bind(this.cfg.bindDn, this.password);
      const who =
        form.kind === 'upn'
          ? ad
            ? `(|(userPrincipalName=${escapeFilter(form.upn)})(mail=${escapeFilter(form.upn)})(proxyAddresses=smtp:${escapeFilter(form.upn)}))`
            : `(mail=${escapeFilter(form.upn)})`
          : ad
            ? `(sAMAccountName=${escapeFilter(form.sam)})`
            : `(uid=${escapeFilter(form.sam)})`;
      const { searchEntries } = await client.search(this.cfg.baseDn, {
        scope: 'sub',
        filter: `(&${this.cfg.userFilter}${who})`,
        attributes: ['sAMAccountName', 'uid', 'userPrincipalName', 'mail', 'userAccountControl', 'pwdAccountLockedTime'],
        sizeLimit: 2,
      });
      if (searchEntries.length !== 1) return { result: { status: 'not-found' }, at: now, dn: undefined, lastUsed: now };
      const u = searchEntries[0]!;
      const str = (a: string) => {
        const v = u[a];
        return Array.isArray(v) ? String(v[0] ?? '') : v === undefined ? '' : String(v);
      };
      const sam = str(ad ? 'sAMAccountName' : 'uid');
      const uac = Number(str('userAccountControl') || '0');
      const enabled = ad ? (uac & UF_ACCOUNTDISABLE) === 0 : str('pwdAccountLockedTime') === '';
      const groups = ad ? await this.groupsInChain(client, u.dn) : await this.groupsByWalking(client, u.dn);
      const entry: DirectoryEntry = {
        key: `${this.cfg.netbiosDomain.toUpperCase()}\\${sam.toLowerCase()}`,
        domain: this.cfg.netbiosDomain.toUpperCase(),
        sam,
        upn: str('userPrincipalName') || str('mail'),
        mail: str('mail'),
        enabled,
        groups,
      };
      return { result: { status: 'found', entry }, at: now, dn: u.dn, lastUsed: now };
    } catch (e) {
      const reason = `LDAP ${this.cfg.url}: ${(e as Error).message}`;
      this.log.warn({ reason }, 'directory lookup failed');
      return { result: { status: 'unavailable', reason }, at: now, dn: undefined, lastUsed: now };
    } finally {
      await client.unbind().catch(() => {});
    }
  }

  /** Active Directory: every group the user is in, at any depth, in one search. */
  private async groupsInChain(client: Client, dn: string): Promise<string[]> {
    const { searchEntries } = await client.search(this.cfg.groupBaseDn ?? this.cfg.baseDn, {
      scope: 'sub',
      filter: `(&(objectClass=group)(member:${IN_CHAIN}:=${escapeFilter(dn)}))`,
      attributes: ['cn'],
    });
    return searchEntries.map((g) => String(Array.isArray(g['cn']) ? g['cn'][0] : g['cn']));
  }

  /** OpenLDAP has no in-chain rule: walk groupOfNames upwards, breadth first, cycles ignored. */
  private async groupsByWalking(client: Client, dn: string): Promise<string[]> {
    const names = new Set<string>();
    const seen = new Set<string>([dn.toLowerCase()]);
    let frontier = [dn];
    for (let depth = 0; depth < 32 && frontier.length > 0; depth++) {
      const filter = `(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))(|${frontier.map((d) => `(member=${escapeFilter(d)})(uniqueMember=${escapeFilter(d)})`).join('')}))`;
      const { searchEntries } = await client.search(this.cfg.groupBaseDn ?? this.cfg.baseDn, { scope: 'sub', filter, attributes: ['cn'] });
      frontier = [];
      for (const g of searchEntries) {
        if (seen.has(g.dn.toLowerCase())) continue;
        seen.add(g.dn.toLowerCase());
        names.add(String(Array.isArray(g['cn']) ? g['cn'][0] : g['cn']));
        frontier.push(g.dn);
      }
    }
    return [...names];
  }

  /** Background refresh of recently used entries; a changed answer re-evaluates live connections. */
  private async refresh(): Promise<void> {
    const now = this.now();
    let changed = false;
    for (const [key, c] of this.cache) {
      if (now - c.lastUsed > 3_600_000) {
        this.cache.delete(key);
        continue;
      }
      const form: Form = key.startsWith('upn:') ? { kind: 'upn', upn: key.slice(4) } : { kind: 'downlevel', domain: this.cfg.netbiosDomain, sam: key.slice(4) };
      const fresh = await this.fetchOnce(key, form);
      if (fresh.result.status === 'unavailable') continue;
      if (JSON.stringify(fresh.result) !== JSON.stringify(c.result)) changed = true;
      fresh.lastUsed = c.lastUsed;
    }
    if (changed) for (const l of this.listeners) l();
  }
}
