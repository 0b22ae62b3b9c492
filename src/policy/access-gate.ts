// The access gate: reads who the client claims to be from each request's Authorization header,
// confirms it with the directory, asks the policy, and decides before a byte of the request (and
// so of its credentials) reaches Exchange. The identity is bound to the client connection only
// when Exchange accepts the handshake, and re-checked on every later request of that connection.
import type { Logger } from 'pino';
import type { Protocol } from '../classify/protocols.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Claim, DirectoryEntry, DirectoryProvider } from '../directory/provider.js';
import type { BoundIdentity, ConnectionContext } from '../forward/connection-context.js';
import type { GateRequest, GateVerdict, RequestGate, ResponseAction } from '../forward/gate.js';
import { headerValue } from '../http/headers.js';
import type { ResponseHead } from '../http/response-head.js';
import type { BearerVerifier } from '../identity/bearer.js';
import { type Credential, parseAuthorization } from '../identity/credentials.js';
import { type Decision, type Reason, deny } from './decision.js';
import { type CompiledPolicy, type Subject, evaluate } from './evaluate.js';
import { refusalFor } from './refusal.js';
import type { UserStateStore } from './user-states.js';

/** Everything a decision depends on; swapped as a whole on reload. */
export interface AccessState {
  readonly config: GatewayConfig;
  readonly policy: CompiledPolicy;
  readonly directory: DirectoryProvider;
  readonly bearer: BearerVerifier | undefined;
}

interface AcceptPlan {
  readonly subject: Subject;
  readonly via: string;
  /** Count an upstream 401 as a failed login of this user (smart lockout). */
  readonly countFailure: boolean;
}

export class AccessControl implements RequestGate {
  constructor(
    readonly state: () => AccessState,
    readonly users: UserStateStore,
    private readonly log: Logger,
  ) {}

  check(ctx: ConnectionContext, req: GateRequest): GateVerdict | Promise<GateVerdict> {
    const cred = parseAuthorization(headerValue(req.head.headers, 'authorization'));
    switch (cred.kind) {
      case 'malformed':
        return this.refuse(req.protocol, 400, deny(['malformed-credentials']), `${cred.scheme}: ${cred.error}`);
      case 'none':
      case 'negotiate-empty':
        return ctx.identity ? this.checkBound(ctx, req) : this.unauthenticated(ctx, req);
      case 'ntlm-start':
        // A new handshake re-authenticates the connection, as IIS does: forget the old identity.
        ctx.identity = undefined;
        return this.unauthenticated(ctx, req);
      case 'ntlm-auth': {
        const m = cred.message;
        if (m.anonymous) return this.decideSubject(ctx, req, { kind: 'unidentified' }, { subject: { kind: 'unidentified' }, via: cred.scheme, countFailure: false }, ['anonymous-ntlm']);
        if (m.ntlmVersion === 'v1' && ctx.zone === 'external') {
          return this.refuse(req.protocol, 403, deny(['ntlm-v1']), 'NTLMv1 is not accepted from outside');
        }
        return this.lookupAndDecide(ctx, req, { domain: m.domain, user: m.user }, cred.scheme, true);
      }
      case 'basic':
        return this.lookupAndDecide(ctx, req, cred.claim, 'Basic', true, cred.password);
      case 'kerberos':
        return this.decideSubject(ctx, req, { kind: 'kerberos' }, { subject: { kind: 'kerberos' }, via: 'Negotiate', countFailure: false });
      case 'bearer':
        return this.bearer(ctx, req, cred);
      case 'other':
        return this.decideSubject(ctx, req, { kind: 'unidentified' }, undefined);
    }
  }

  /** Decision for a live connection now (re-evaluation after a change, `policy explain`). */
  async decideConnection(ctx: ConnectionContext): Promise<Decision | undefined> {
    const id = ctx.identity;
    if (!id || !ctx.lastProtocol) return undefined;
    const s = this.state();
    if (id.kind === 'kerberos') return this.evaluate({ kind: 'kerberos' }, ctx.lastProtocol, ctx);
    const fresh = await s.directory.lookup({ domain: id.entry!.domain, user: id.entry!.sam });
    if (fresh.status === 'unavailable') return deny(['directory-unavailable']);
    if (fresh.status !== 'found') return deny([fresh.status === 'unknown-domain' ? 'unknown-domain' : 'unknown-user']);
    ctx.identity = { ...id, entry: fresh.entry };
    return this.evaluate({ kind: 'user', entry: fresh.entry }, ctx.lastProtocol, ctx);
  }

  /** Re-checks every live connection and closes those no longer allowed; returns how many. */
  async reevaluate(connections: Iterable<ConnectionContext>): Promise<number> {
    let closed = 0;
    await Promise.all(
      [...connections].map(async (c) => {
        const d = await this.decideConnection(c);
        if (d && !d.allow) {
          this.log.info({ conn: c.id, user: c.identity?.entry?.key, reasons: d.reasons }, 'live connection no longer allowed');
          c.close(`access withdrawn: ${d.reasons.join(', ')}`);
          closed++;
        }
      }),
    );
    return closed;
  }

  evaluate(subject: Subject, protocol: Protocol, ctx: Pick<ConnectionContext, 'zone' | 'remoteAddress'>): Decision {
    return evaluate(this.state().policy, { subject, protocol, zone: ctx.zone, clientAddress: ctx.remoteAddress }, this.users);
  }

  private checkBound(ctx: ConnectionContext, req: GateRequest): GateVerdict {
    const id = ctx.identity!;
    const subject: Subject = id.kind === 'user' ? { kind: 'user', entry: id.entry! } : { kind: 'kerberos' };
    const d = this.evaluate(subject, req.protocol, ctx);
    if (!d.allow) return this.refuse(req.protocol, 403, d);
    return { allow: true, onResponse: (h) => this.shape(ctx, h) };
  }

  /** No credentials: only a handshake leg (answered 401) or an anonymous path may pass. */
  private unauthenticated(ctx: ConnectionContext, req: GateRequest): GateVerdict {
    const anonymous = this.state().config.policy.anonymousPaths.some((p) => {
      const q = p.toLowerCase();
      return req.path === q || req.path.startsWith(q.endsWith('/') ? q : `${q}/`);
    });
    return {
      allow: true,
      onResponse: (h) => {
        if (!anonymous && h.status >= 200 && h.status < 300) {
          return { pass: false, refusal: refusalFor(req.protocol, 403, deny(['unauthenticated-answer']), 'Exchange answered a request without credentials') };
        }
        return this.shape(ctx, h);
      },
    };
  }

  private async lookupAndDecide(ctx: ConnectionContext, req: GateRequest, claim: Claim, via: string, countFailure: boolean, password?: string): Promise<GateVerdict> {
    const s = this.state();
    const r = await s.directory.lookup(claim);
    if (r.status === 'unavailable') return this.refuse(req.protocol, 503, deny(['directory-unavailable']), r.reason);
    if (r.status === 'unknown-domain') return this.refuse(req.protocol, 403, deny(['unknown-domain']), `domain of ${claim.domain || claim.user} is not accepted`);
    if (r.status === 'not-found') {
      return this.decideSubject(ctx, req, { kind: 'unidentified' }, undefined, ['unknown-user']);
    }
    const entry = r.entry;
    const subject: Subject = { kind: 'user', entry };
    const d = this.evaluate(subject, req.protocol, ctx);
    if (!d.allow) return this.refuse(req.protocol, 403, d);
    if (password !== undefined && s.config.preauth === 'ldap' && s.directory.verifyPassword) {
      const ok = await s.directory.verifyPassword(entry, password);
      if (ok === 'unavailable') return this.refuse(req.protocol, 503, deny(['directory-unavailable']), 'password check unavailable');
      if (ok === 'bad-password') {
        if (ctx.zone === 'external') this.failed(entry);
        return this.refuse(req.protocol, 401, deny(['bad-password']), 'invalid credentials');
      }
    }
    return this.admit(ctx, d, { subject, via, countFailure });
  }

  private decideSubject(ctx: ConnectionContext, req: GateRequest, subject: Subject, plan: AcceptPlan | undefined, extra: Reason[] = []): GateVerdict {
    const d = this.evaluate(subject, req.protocol, ctx);
    if (!d.allow) return this.refuse(req.protocol, 403, { ...d, reasons: [...extra, ...d.reasons] });
    return plan ? this.admit(ctx, d, plan) : { allow: true, onResponse: (h) => this.shape(ctx, h) };
  }

  private async bearer(ctx: ConnectionContext, req: GateRequest, cred: Extract<Credential, { kind: 'bearer' }>): Promise<GateVerdict> {
    const v = await this.state().bearer?.verify(cred.token);
    if (v?.ok) return this.lookupAndDecide(ctx, req, v.claim, 'Bearer', false);
    return this.decideSubject(ctx, req, { kind: 'unidentified' }, undefined);
  }

  /** An allowed credential: bind it once Exchange accepts, count a failure when it does not. */
  private admit(ctx: ConnectionContext, d: Decision, plan: AcceptPlan): GateVerdict {
    const bind = () => {
      if (plan.subject.kind === 'unidentified') return;
      const entry: DirectoryEntry | undefined = plan.subject.kind === 'user' ? plan.subject.entry : undefined;
      const id: BoundIdentity = entry ? { kind: 'user', entry, via: plan.via, at: Date.now() } : { kind: 'kerberos', via: plan.via, at: Date.now() };
      if (!ctx.identity || ctx.identity.entry?.key !== entry?.key) this.log.debug({ conn: ctx.id, user: entry?.key ?? 'kerberos', via: plan.via, reasons: d.reasons }, 'identity bound');
      ctx.identity = id;
      if (entry) this.users.recordSuccess(entry.key);
    };
    return {
      allow: true,
      // RPC channels never get a final answer: 100 Continue is Exchange accepting the credentials.
      onInterim: (status) => {
        if (status === 100) bind();
      },
      onResponse: (h) => {
        if (h.status === 401) {
          ctx.identity = undefined;
          if (plan.countFailure && plan.subject.kind === 'user' && ctx.zone === 'external') this.failed(plan.subject.entry);
        } else bind();
        return this.shape(ctx, h);
      },
    };
  }

  private failed(entry: DirectoryEntry): void {
    if (this.users.recordFailure(entry.key)) {
      this.log.warn({ user: entry.key, reasons: ['locked-out'] }, 'smart lockout: external logins of this user are blocked');
    }
  }

  /** Removes bare "Negotiate" offers where configured, so clients fall back to NTLM and stay visible. */
  private shape(ctx: ConnectionContext, h: ResponseHead): ResponseAction {
    if (h.status !== 401 || !this.state().config.policy.stripNegotiate.includes(ctx.zone)) return { pass: true };
    const headers = h.headers.filter((f) => !(f.name.toLowerCase() === 'www-authenticate' && f.value.trim().toLowerCase() === 'negotiate'));
    return headers.length === h.headers.length ? { pass: true } : { pass: true, headers };
  }

  private refuse(protocol: Protocol, status: number, d: Decision, detail?: string): GateVerdict {
    return { allow: false, ...refusalFor(protocol, status, d, detail) };
  }
}
