// The access gate: reads who the client claims to be from each request's Authorization header,
// confirms it with the directory, asks the policy, and decides before a byte of the request (and
// so of its credentials) reaches Exchange. A claim becomes the connection's identity only on
// proof that Exchange authenticated it (src/policy/proof.ts); a forwarded credential holds one of
// the user's lockout attempt slots until Exchange answers (src/policy/login-attempts.ts).
import { createHmac, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Protocol } from '../vocabulary/protocols.js';
import type { EdgeConfig } from '../classify/edge-schema.js';
import type { PolicyConfig, ZonesConfig } from './policy-schema.js';
import type { DirectoryEntry, DirectoryProvider } from '../directory/provider.js';
import type { BoundIdentity, ConnectionContext } from '../forward/connection-context.js';
import { recordBound, recordLoginFailure } from '../forward/connection-record.js';
import { type AuthScheme, type Claim, claimText } from '../vocabulary/claim.js';
import type { GateRequest, GateVerdict, RequestGate } from '../forward/gate.js';
import { headerValue } from '../http/headers.js';
import type { BearerVerifier } from '../identity/bearer.js';
import { type Credential, parseAuthorization } from '../identity/credentials.js';
import { AnswerTiming } from './answer-timing.js';
import { type Decision, type Reason, deny } from './decision.js';
import { type CompiledPolicy, type Subject, evaluate } from './evaluate.js';
import type { AttemptOutcome, AttemptTicket, LoginAttempts } from './login-attempts.js';
import { provesAuthentication, requiresAuthentication } from './proof.js';
import { healthProbeVerdict, isHealthProbe } from './health-probes.js';
import { refusalFor } from '../forward/refusals.js';
import { type AnswerContext, anonymousVerdict, concealedVerdict, shapeAnswer } from './unproven-verdicts.js';
import type { UserStateStore } from './user-states.js';

/** Everything a decision depends on; swapped as a whole on reload. */
/** The configuration sections access decisions read. */
export interface AccessConfig {
  readonly policy: PolicyConfig;
  readonly zones: ZonesConfig;
  readonly preauth: 'none' | 'ldap';
  readonly edge: EdgeConfig;
}

export interface AccessState<C extends AccessConfig = AccessConfig> {
  readonly config: C;
  readonly policy: CompiledPolicy;
  readonly directory: DirectoryProvider;
  readonly bearer: BearerVerifier | undefined;
}

type Verdict = GateVerdict | Promise<GateVerdict>;

export class AccessControl implements RequestGate {
  readonly name = 'access' as const;
  readonly timing = new AnswerTiming();
  /** Keys the fingerprints of proven Basic credentials; never leaves this process. */
  private readonly salt = randomBytes(32);

  constructor(
    readonly state: () => AccessState,
    readonly users: UserStateStore,
    private readonly attempts: LoginAttempts,
    private readonly log: Logger,
  ) {}

  check(ctx: ConnectionContext, req: GateRequest): Verdict {
    // A load balancer's probe, where configured: no identity is read, proven or bound on it.
    if (!ctx.identity && isHealthProbe(req.head.method, req.path) && this.state().config.policy.healthProbes.includes(ctx.zone)) return healthProbeVerdict();
    const authorization = headerValue(req.head.headers, 'authorization');
    // An anonymous endpoint gets no credentials: a password sent there would be checked by
    // Exchange (an AD bad-password count) without the gateway ever seeing the answer as proof.
    if (authorization !== undefined && !requiresAuthentication(req.protocol, req.path, this.state().config.policy.anonymousPaths)) {
      return ctx.identity ? this.checkBound(ctx, req, true) : anonymousVerdict(this.shaper(ctx, req), true);
    }
    const cred = parseAuthorization(authorization);
    switch (cred.kind) {
      case 'malformed': {
        const scheme = schemeOf(cred.scheme);
        const d = deny(['malformed-credentials']);
        if (scheme) {
          ctx.claim = { claimed: undefined, user: undefined, scheme };
          recordLoginFailure(ctx, req.protocol, d.reasons);
        }
        return this.refuseExplicit(req.protocol, 400, d, `${cred.scheme}: ${cred.error}`);
      }
      case 'none':
      case 'negotiate-empty':
      // A handshake's first leg names nobody; on a proven connection it is judged as that user, and
      // its AUTHENTICATE leg must name the same user (claim()).
      case 'ntlm-start':
        return ctx.identity ? this.checkBound(ctx, req) : anonymousVerdict(this.shaper(ctx, req));
      case 'ntlm-auth': {
        const m = cred.message;
        ctx.claim = { claimed: m.anonymous ? undefined : claimText({ domain: m.domain, user: m.user }), user: undefined, scheme: cred.scheme };
        if (m.anonymous) return this.recorded(ctx, req, this.decideUnproven(ctx, req, { kind: 'unidentified' }, ['anonymous-ntlm']));
        if (m.ntlmVersion === 'v1' && ctx.zone === 'external') return this.recorded(ctx, req, this.refuseUnproven(ctx, req, deny(['ntlm-v1']), 'NTLMv1 is not accepted from outside'));
        return this.recorded(ctx, req, this.claim(ctx, req, { domain: m.domain, user: m.user }, cred.scheme));
      }
      case 'basic':
        ctx.claim = { claimed: claimText(cred.claim), user: undefined, scheme: 'Basic' };
        return this.recorded(ctx, req, this.claim(ctx, req, cred.claim, 'Basic', cred.password));
      case 'kerberos':
        ctx.claim = { claimed: undefined, user: 'kerberos', scheme: 'Kerberos' };
        if (ctx.identity?.kind === 'user') return this.recorded(ctx, req, this.mismatch(req.protocol, ctx.identity, 'a Kerberos ticket'));
        return this.recorded(ctx, req, this.decideUnproven(ctx, req, { kind: 'kerberos' }));
      case 'bearer':
        return this.bearer(ctx, req, cred);
      case 'other':
        return this.decideUnproven(ctx, req, { kind: 'unidentified' });
    }
  }

  /** Puts a refused or concealed login on the record (the claim is on the connection). */
  private recorded(ctx: ConnectionContext, req: GateRequest, v: Verdict): Verdict {
    if (v instanceof Promise) return v.then((r) => this.recorded(ctx, req, r) as GateVerdict);
    if (!v.allow) recordLoginFailure(ctx, req.protocol, v.reasons ?? [v.reason]);
    else if (v.concealed) recordLoginFailure(ctx, req.protocol, v.concealed.reasons);
    return v;
  }

  /** Decision for a live connection now (re-evaluation after a change, `policy explain`). */
  async decideConnection(ctx: ConnectionContext): Promise<Decision | undefined> {
    if (!ctx.lastProtocol) return undefined;
    let first: Decision | undefined;
    // The proven identity and the one claimed by the request in flight (an RPC channel) both count.
    for (const id of new Set([ctx.identity, ctx.pending])) {
      if (!id) continue;
      const d = await this.decideIdentity(ctx, id, ctx.lastProtocol);
      if (!d.allow) return d;
      first ??= d;
    }
    return first;
  }

  private async decideIdentity(ctx: ConnectionContext, id: BoundIdentity, protocol: Protocol): Promise<Decision> {
    if (id.kind === 'kerberos') return this.decide({ kind: 'kerberos' }, protocol, ctx, id.via);
    const fresh = await this.state().directory.lookup({ domain: id.entry!.domain, user: id.entry!.sam });
    if (fresh.status === 'unavailable') return deny(['directory-unavailable']);
    if (fresh.status !== 'found') return deny([fresh.status === 'unknown-domain' ? 'unknown-domain' : 'unknown-user']);
    if (ctx.identity === id) ctx.identity = { ...id, entry: fresh.entry };
    return this.decide({ kind: 'user', entry: fresh.entry }, protocol, ctx, id.via);
  }

  /**
   * Re-checks every live connection and closes those no longer allowed; returns how many. Spread
   * out (issue #18): connections are checked in batches (each a directory lookup and a decision),
   * and after a few milliseconds of work the event loop serves other requests before the next
   * batch, so a reload with thousands of connections open does not hold up every one of them. A
   * connection closed in the meantime is skipped.
   */
  async reevaluate(connections: Iterable<ConnectionContext>): Promise<number> {
    const BATCH = 64;
    const SLICE_MS = 4;
    const live = connections instanceof Set ? (connections as ReadonlySet<ConnectionContext>) : undefined;
    const all = [...connections];
    let closed = 0;
    let slice = performance.now();
    for (let i = 0; i < all.length; i += BATCH) {
      if (performance.now() - slice > SLICE_MS) {
        await new Promise<void>((r) => setImmediate(r));
        slice = performance.now();
      }
      await Promise.all(
        all.slice(i, i + BATCH).map(async (c) => {
          if (live && !live.has(c)) return;
          const d = await this.decideConnection(c);
          if (d && !d.allow) {
            this.log.info({ conn: c.id, client: c.remoteAddress, user: (c.identity ?? c.pending)?.entry?.key, reasons: d.reasons }, 'live connection no longer allowed');
            c.close('access-withdrawn', d.reasons.join(', '));
            closed++;
          }
        }),
      );
    }
    return closed;
  }

  evaluate(subject: Subject, protocol: Protocol, ctx: Pick<ConnectionContext, 'zone' | 'remoteAddress'>): Decision {
    return evaluate(this.state().policy, { subject, protocol, zone: ctx.zone, clientAddress: ctx.remoteAddress }, this.users);
  }

  /**
   * The decision for a client that authenticated with `via`. A rule that requires a second factor
   * is met only by a browser signed in at the gateway (Forms, src/signin): NTLM, Basic, Bearer and
   * Kerberos cannot carry one, so for them it is a refusal, not a pass around the factor.
   */
  private decide(subject: Subject, protocol: Protocol, ctx: Pick<ConnectionContext, 'zone' | 'remoteAddress'>, via: AuthScheme | undefined): Decision {
    const d = this.evaluate(subject, protocol, ctx);
    return d.allow && d.secondFactor && via !== 'Forms' ? deny(['needs-second-factor'], d.rule) : d;
  }

  private checkBound(ctx: ConnectionContext, req: GateRequest, stripAuthorization = false): GateVerdict {
    const id = ctx.identity!;
    const d = this.decide(id.kind === 'user' ? { kind: 'user', entry: id.entry! } : { kind: 'kerberos' }, req.protocol, ctx, id.via);
    if (!d.allow) return this.refuseExplicit(req.protocol, 403, d);
    // The binding stays whatever Exchange answers: a connection proven as one user never serves
    // another (claim() refuses other users' credentials), so at worst Exchange has forgotten it.
    const sc = this.shaper(ctx, req);
    return { allow: true, decision: d, ...(stripAuthorization ? { stripAuthorization } : {}), onResponse: (h) => shapeAnswer(sc, h) };
  }

  private async claim(ctx: ConnectionContext, req: GateRequest, claim: Claim, via: AuthScheme, password?: string): Promise<GateVerdict> {
    const s = this.state();
    const r = await s.directory.lookup(claim);
    if (r.status === 'found') ctx.claim = { claimed: claimText(claim), user: r.entry.key, scheme: via };
    if (r.status === 'unavailable') return this.refuseExplicit(req.protocol, 503, deny(['directory-unavailable']), r.reason);
    const bound = ctx.identity;
    // Never rebind silently: Exchange keeps serving the connection as the user it authenticated.
    if (bound && (r.status !== 'found' || bound.entry?.key !== r.entry.key)) return this.mismatch(req.protocol, bound, `${claim.domain ? `${claim.domain}\\` : ''}${claim.user}`);
    if (r.status === 'unknown-domain') return this.refuseUnproven(ctx, req, deny(['unknown-domain']), `domain of ${claim.domain || claim.user} is not accepted`);
    if (r.status === 'not-found') return this.decideUnproven(ctx, req, { kind: 'unidentified' }, ['unknown-user'], `claimed ${claim.domain}\\${claim.user}`);
    const entry = r.entry;
    const subject: Subject = { kind: 'user', entry };
    const d = this.decide(subject, req.protocol, ctx, via);
    const secret = password === undefined ? undefined : createHmac('sha256', this.salt).update(`${entry.key}\0${password}`).digest('base64');
    const preauth = password !== undefined && s.config.preauth === 'ldap' && s.directory.verifyPassword ? password : undefined;
    if (!d.allow) {
      // With LDAP pre-authentication a client can prove its password: then it may hear the reason.
      if (preauth === undefined || d.reasons.includes('locked-out') || !this.conceals(ctx)) return this.refuseUnproven(ctx, req, d, `claimed ${entry.key}`);
      const proof = await this.preauthenticate(ctx, req, entry, preauth);
      if (proof !== true) return proof;
      return this.refuseExplicit(req.protocol, 403, d);
    }
    // The Basic credential this connection already proved: no new attempt, nothing to guess.
    if (bound && secret !== undefined && bound.secret === secret) return this.admitted(ctx, req, subject, d, via, undefined, secret);
    // A verified Bearer token is no password guess: it needs no attempt slot.
    const slot = via === 'Bearer' ? { ok: true as const } : await this.reserve(ctx, entry);
    if (!slot.ok) return this.refuseUnproven(ctx, req, deny([slot.reason]), `claimed ${entry.key}`);
    const ticket = slot.ticket;
    if (preauth !== undefined) {
      const ok = await this.state().directory.verifyPassword!(entry, preauth);
      if (ok === 'unavailable') {
        ticket?.settle('none');
        return this.refuseExplicit(req.protocol, 503, deny(['directory-unavailable']), 'password check unavailable');
      }
      if (ok === 'bad-password' || ok === 'expired') {
        // An expired password is the right one: no failure for the lockout (AD counts none either).
        this.settle(ticket, ok === 'expired' ? 'none' : 'failure', entry.key);
        return this.refuseUnproven(ctx, req, deny([ok === 'expired' ? 'password-expired' : 'bad-password']), `claimed ${entry.key}`);
      }
    }
    return this.admitted(ctx, req, subject, d, via, ticket, secret);
  }

  /** LDAP pre-authentication of a denied user, under the same attempt limit as a forwarded login. */
  private async preauthenticate(ctx: ConnectionContext, req: GateRequest, entry: DirectoryEntry, password: string): Promise<true | GateVerdict> {
    const slot = await this.reserve(ctx, entry);
    if (!slot.ok) return this.refuseUnproven(ctx, req, deny([slot.reason]), `claimed ${entry.key}`);
    const ok = await this.state().directory.verifyPassword!(entry, password);
    if (ok === 'ok') {
      this.settle(slot.ticket, 'success', entry.key);
      return true;
    }
    this.settle(slot.ticket, ok === 'bad-password' ? 'failure' : 'none', entry.key);
    if (ok === 'unavailable') return this.refuseExplicit(req.protocol, 503, deny(['directory-unavailable']), 'password check unavailable');
    return this.refuseUnproven(ctx, req, deny([ok === 'expired' ? 'password-expired' : 'bad-password']), `claimed ${entry.key}`);
  }

  /** A slot for one unverified attempt; only external logins are counted for the smart lockout. */
  private async reserve(ctx: ConnectionContext, entry: DirectoryEntry): Promise<{ ok: true; ticket?: AttemptTicket } | { ok: false; reason: Reason }> {
    if (ctx.zone !== 'external') return { ok: true };
    return this.attempts.reserve(entry.key);
  }

  private settle(ticket: AttemptTicket | undefined, outcome: AttemptOutcome, key: string): void {
    if (ticket?.settle(outcome)) this.log.warn({ user: key, reasons: ['locked-out'] }, 'smart lockout: external logins of this user are blocked');
  }

  private decideUnproven(ctx: ConnectionContext, req: GateRequest, subject: Subject, extra: Reason[] = [], detail?: string): GateVerdict | Promise<GateVerdict> {
    const d = this.decide(subject, req.protocol, ctx, undefined);
    if (!d.allow) return this.refuseUnproven(ctx, req, { ...d, reasons: [...extra, ...d.reasons] }, detail);
    if (subject.kind === 'kerberos') return this.admitted(ctx, req, subject, d, 'Kerberos', undefined, undefined);
    // Credentials the gateway cannot tie to a user went to Exchange: whatever it made of them,
    // later requests must not ride on it.
    const sc = this.shaper(ctx, req);
    return { allow: true, decision: d, onResponse: (h) => ({ ...shapeAnswer(sc, h), ...(h.status === 401 ? {} : { closeAfter: true }) }) };
  }

  private async bearer(ctx: ConnectionContext, req: GateRequest, cred: Extract<Credential, { kind: 'bearer' }>): Promise<GateVerdict> {
    const v = await this.state().bearer?.verify(cred.token);
    ctx.claim = { claimed: v?.ok ? claimText(v.claim) : undefined, user: undefined, scheme: 'Bearer' };
    if (v?.ok) return this.recorded(ctx, req, this.claim(ctx, req, v.claim, 'Bearer')) as Promise<GateVerdict>;
    return this.recorded(ctx, req, this.decideUnproven(ctx, req, { kind: 'unidentified' }));
  }

  /** An allowed credential goes to Exchange: bound on proof, counted as a failure on a 401. */
  private admitted(ctx: ConnectionContext, req: GateRequest, subject: Subject, decision: Decision, via: AuthScheme, ticket: AttemptTicket | undefined, secret: string | undefined): GateVerdict {
    const entry = subject.kind === 'user' ? subject.entry : undefined;
    const key = entry?.key ?? 'kerberos';
    const claimed: BoundIdentity = entry ? { kind: 'user', entry, via, at: Date.now(), ...(secret ? { secret } : {}) } : { kind: 'kerberos', via, at: Date.now() };
    ctx.pending = claimed;
    const needsAuth = requiresAuthentication(req.protocol, req.path, this.state().config.policy.anonymousPaths);
    const sc = this.shaper(ctx, req);
    const started = Date.now();
    let withdrawn = false;
    return {
      allow: true,
      decision,
      withdraw: () => {
        withdrawn = true;
        if (ctx.pending === claimed) ctx.pending = undefined;
        this.settle(ticket, 'none', key);
      },
      onResponse: (h) => {
        if (withdrawn) return shapeAnswer(sc, h);
        if (h.status === 401) {
          recordLoginFailure(ctx, req.protocol, [], 'refused-by-exchange');
          if (ticket) this.timing.credentialedRefusal(req.protocol, Date.now() - started);
          this.settle(ticket, 'failure', key);
          return shapeAnswer(sc, h);
        }
        if (provesAuthentication(h.status, needsAuth)) {
          const fresh = ctx.identity?.entry?.key !== entry?.key || ctx.identity?.kind !== claimed.kind;
          ctx.identity = claimed;
          if (fresh) recordBound(ctx, req.protocol, key, via);
          this.settle(ticket, 'success', key);
          return shapeAnswer(sc, h);
        }
        // Neither refused nor proven (a redirect, an error, an anonymous endpoint): Exchange may
        // have authenticated the connection without the gateway knowing. Nothing more rides on it.
        this.settle(ticket, 'none', key);
        return { ...shapeAnswer(sc, h), ...(ctx.identity ? {} : { closeAfter: true }) };
      },
      onSettled: (forwarded) => {
        if (ctx.pending === claimed) ctx.pending = undefined;
        // Still unsettled here: the request never left (another gate refused it), or it did and
        // the exchange ended before Exchange answered. Cut before Exchange would have refused a
        // wrong password, it may be a guess running from its 401; cut later (an RPC channel that
        // Exchange accepted, then closed), it is no failure.
        // The gateway itself cut it (a device blocked, access withdrawn): no guess ran from it.
        const early = Date.now() - started < this.timing.refusalWindow(req.protocol) && ctx.closeCause !== 'access-withdrawn';
        this.settle(ticket, forwarded && early ? 'abandoned' : 'none', key);
      },
    };
  }

  private conceals(ctx: ConnectionContext): boolean {
    return this.state().config.zones[ctx.zone].concealDenials;
  }

  /**
   * A refusal before any password is proven: concealed where the zone says so, explicit elsewhere
   * and on a connection that already proved its user (a revoked user's live connection).
   */
  private refuseUnproven(ctx: ConnectionContext, req: GateRequest, d: Decision, detail?: string): GateVerdict | Promise<GateVerdict> {
    if (!this.conceals(ctx) || ctx.identity) return this.refuseExplicit(req.protocol, 403, d, detail);
    const verdict = () => concealedVerdict(d, detail, this.shaper(ctx, req));
    const delay = this.timing.delayFor(req.protocol);
    return delay > 0 ? new Promise((resolve) => setTimeout(() => resolve(verdict()), delay)) : verdict();
  }

  private mismatch(protocol: Protocol, bound: BoundIdentity, claimed: string): GateVerdict {
    return this.refuseExplicit(protocol, 403, deny(['identity-mismatch']), `connection proven as ${bound.entry?.key ?? 'a Kerberos client'}, credentials name ${claimed}`);
  }

  private shaper(ctx: ConnectionContext, req: GateRequest): AnswerContext {
    const s = this.state();
    return {
      protocol: req.protocol,
      needsAuth: requiresAuthentication(req.protocol, req.path, s.config.policy.anonymousPaths),
      stripNegotiate: s.config.policy.stripNegotiate.includes(ctx.zone),
      timing: this.timing,
    };
  }

  private refuseExplicit(protocol: Protocol, status: number, d: Decision, detail?: string): GateVerdict {
    return { allow: false, ...refusalFor(protocol, status, d, detail) };
  }
}

/** The AuthScheme of an Authorization scheme token (lower-case), if it is one the gateway reads. */
function schemeOf(token: string): AuthScheme | undefined {
  switch (token) {
    case 'basic':
      return 'Basic';
    case 'ntlm':
      return 'NTLM';
    case 'negotiate':
      return 'Negotiate';
    case 'bearer':
      return 'Bearer';
    default:
      return undefined;
  }
}
