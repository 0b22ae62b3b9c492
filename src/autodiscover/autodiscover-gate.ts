// Tells each user, in each zone, only what they may use: every Autodiscover answer (POX, SOAP,
// JSON v2) is rewritten for the identity the connection authenticated as, after the access gate
// has bound it. A v2 JSON request for a protocol the user may not use is answered here, as
// Exchange answers an unavailable protocol, and never forwarded.
import type { Protocol } from '../vocabulary/protocols.js';
import type { ConnectionContext } from '../forward/connection-context.js';
import type { GateVerdict, RequestGate, ResponseAction } from '../forward/gate.js';
import type { BodyTransform } from '../forward/response-rewrite.js';
import { headerValue } from '../http/headers.js';
import type { ResponseHead } from '../http/response-head.js';
import type { AccessConfig, AccessControl, AccessState } from '../policy/access-gate.js';
import type { AutodiscoverConfig } from './autodiscover-schema.js';
import { refusalBytes } from '../forward/refusals.js';
import { newReferenceId } from '../forward/reference-id.js';
import type { Subject } from '../policy/evaluate.js';
import { type RewriteContext, type Rewritten } from './rewrite-context.js';
import { JSON_PROTOCOLS, rewriteJson, unavailableProtocol } from './rewrite-json.js';
import { rewritePox } from './rewrite-pox.js';
import { rewriteSoap } from './rewrite-soap.js';

/** What the Autodiscover gate reads: the access state with the autodiscover section. */
type AutodiscoverState = AccessState<AccessConfig & { readonly autodiscover: AutodiscoverConfig }>;

function subjectOf(ctx: ConnectionContext): Subject {
  const id = ctx.identity;
  if (id?.kind === 'user' && id.entry) return { kind: 'user', entry: id.entry };
  if (id?.kind === 'kerberos') return { kind: 'kerberos' };
  return { kind: 'unidentified' };
}

function rewriteContext(s: AutodiscoverState, access: AccessControl, ctx: ConnectionContext, subject: Subject): RewriteContext {
  const cfg = s.config.autodiscover;
  const namespaces = new Map(cfg.namespaces.map((n) => [n.internal.toLowerCase(), n.external.toLowerCase()]));
  const published = new Set([...cfg.namespaces.map((n) => n.external.toLowerCase().split(':')[0]!), ...cfg.publishedNames.map((n) => n.toLowerCase())]);
  const cache = new Map<Protocol, boolean>();
  return {
    zone: ctx.zone,
    namespaces,
    published,
    acceptedDomains: s.directory.domains.upnSuffixes,
    may: (p) => {
      let v = cache.get(p);
      if (v === undefined) cache.set(p, (v = access.evaluate(subject, p, ctx).allow));
      return v;
    },
  };
}

function transform(s: AutodiscoverState, rewrite: (text: string) => Rewritten): BodyTransform {
  return {
    maxBytes: s.config.autodiscover.maxBodyBytes,
    apply(body) {
      const r = rewrite(body.toString('utf8'));
      if (!r.ok) return { ok: false, refusal: { status: 502, reason: 'autodiscover-rejected', message: r.error } };
      return { ok: true, body: Buffer.from(r.text, 'utf8') };
    },
  };
}

export function autodiscoverGate(state: () => AutodiscoverState, access: AccessControl): RequestGate {
  return {
    name: 'autodiscover',
    check(ctx, req): GateVerdict | Promise<GateVerdict> {
      const s = state();
      if (req.protocol !== 'autodiscover' || !s.config.autodiscover.rewrite) return { allow: true };
      if (req.path.startsWith('/autodiscover/autodiscover.json')) return jsonRequest(s, access, ctx, req.path, req.head.target);
      return {
        allow: true,
        onResponse: (h): ResponseAction => {
          if (h.status !== 200) return { pass: true };
          const rc = rewriteContext(s, access, ctx, subjectOf(ctx));
          const soap = req.path === '/autodiscover/autodiscover.svc';
          return { pass: true, transform: transform(s, (text) => (soap ? rewriteSoap(text, rc) : rewritePox(text, rc))) };
        },
      };
    },
  };
}

async function jsonRequest(s: AutodiscoverState, access: AccessControl, ctx: ConnectionContext, path: string, target: string): Promise<GateVerdict> {
  const q = new URLSearchParams(target.includes('?') ? target.slice(target.indexOf('?') + 1) : '');
  const name = [...q.entries()].find(([k]) => k.toLowerCase() === 'protocol')?.[1] ?? '';
  const protocol = JSON_PROTOCOLS[name.toLowerCase()];
  const smtp = decodeURIComponent(path.split('/')[4] ?? '');
  let subject = subjectOf(ctx);
  // v2 is anonymous: the address in the path is only a claim, used to restrict, never to grant more.
  // Where refusals are concealed an unproven client gets Exchange's answer (its published URLs are
  // no secret; the protocol's own requests are judged with credentials): answering "not
  // available" for one address and a URL for another would tell it who may use what (issue #10).
  const uniform = subject.kind === 'unidentified' && s.config.zones[ctx.zone].concealDenials;
  if (subject.kind === 'unidentified' && smtp.includes('@') && !uniform) {
    const r = await s.directory.lookup({ domain: '', user: smtp });
    if (r.status === 'found') subject = { kind: 'user', entry: r.entry };
  }
  if (protocol && !uniform && !access.evaluate(subject, protocol, ctx).allow) {
    const ref = newReferenceId();
    const response = refusalBytes(400, ['protocol-not-allowed'], '', ref, undefined, { type: 'application/json; charset=utf-8', bytes: Buffer.from(unavailableProtocol(name)) });
    return { allow: false, status: 400, reason: 'protocol-not-allowed', message: `${name} is not available to this user`, ref, response };
  }
  const rc = rewriteContext(s, access, ctx, subject);
  return {
    allow: true,
    onResponse: (h: ResponseHead) =>
      h.status === 200 && /json/i.test(headerValue(h.headers, 'content-type') ?? '') ? { pass: true, transform: transform(s, (text) => rewriteJson(text, rc)) } : { pass: true },
  };
}
