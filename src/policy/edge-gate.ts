import { DEFAULT_ALLOWED_PATHS, type EdgeConfig } from '../classify/edge-schema.js';
import { checkRpcTarget, exploitShape, pathAllowed } from '../classify/edge-rules.js';
import { PROTOCOLS, type Protocol } from '../vocabulary/protocols.js';
import { ruleVerdict } from '../classify/path-rules.js';
import type { Zone } from '../vocabulary/zones.js';
import type { GateVerdict, RequestGate, ResponseAction } from '../forward/gate.js';
import { headerValue } from '../http/headers.js';
import type { HeaderField } from '../http/headers.js';
import type { ResponseHead } from '../http/response-head.js';
import type { AccessState } from './access-gate.js';
import { refusalFor } from '../forward/refusals.js';
import { isFormsSignInPath } from '../forward/exchange-session-cookies.js';
import { type HeaderFilter, compileHeaderFilter } from './response-headers.js';

const PASS: ResponseAction = { pass: true };
const ALLOW: GateVerdict = { allow: true };

/** Keeps only the configured bare scheme offers of a 401; a challenge ("NTLM <token>") belongs to a handshake under way. */
function trimOffers(headers: readonly HeaderField[], keep: ReadonlySet<string>): readonly HeaderField[] | undefined {
  const out = headers.filter((f) => f.name.toLowerCase() !== 'www-authenticate' || (f.value.includes(' ') && !/^basic /i.test(f.value)) || keep.has(f.value.split(' ')[0]!.toLowerCase()));
  return out.length === headers.length ? undefined : out;
}

function responseShaper(strip: HeaderFilter | undefined, offered: ReadonlySet<string> | undefined): GateVerdict {
  if (!strip && !offered) return ALLOW;
  return {
    allow: true,
    onResponse: (h: ResponseHead): ResponseAction => {
      let headers = strip?.(h.headers);
      if (offered && h.status === 401) headers = trimOffers(headers ?? h.headers, offered) ?? headers;
      return headers ? { pass: true, headers } : PASS;
    },
  };
}

/** The allowing verdicts of one configuration, per zone and protocol, built once (the hot path allocates nothing). */
function verdictsFor(edge: EdgeConfig): Record<Zone, Record<Protocol, GateVerdict>> {
  const strip = compileHeaderFilter(edge.responseHeaders.strip);
  const forZone = (zone: Zone) =>
    Object.fromEntries(
      PROTOCOLS.map((p) => {
        const offered = edge.zones.includes(zone) ? edge.offeredSchemes[p] : undefined;
        return [p, responseShaper(edge.responseHeaders.zones.includes(zone) ? strip : undefined, offered && new Set(offered.map((o) => o.toLowerCase())))];
      }),
    ) as Record<Protocol, GateVerdict>;
  return { external: forZone('external'), internal: forZone('internal') };
}

const compiled = new WeakMap<EdgeConfig, Record<Zone, Record<Protocol, GateVerdict>>>();

/**
 * The hardened edge, asked before identity: published exploit shapes (every zone), the
 * per-protocol path allow-list and the RPC target allow-list. In zones where it applies it also
 * trims the authentication schemes offered in 401 answers, and in the configured zones it removes
 * Exchange's diagnostic headers from every answer.
 */
export function edgeGate(state: () => AccessState): RequestGate {
  return {
    name: 'edge',
    check(ctx, req): GateVerdict {
      const s = state();
      const edge = s.config.edge;
      let verdicts = compiled.get(edge);
      if (!verdicts) compiled.set(edge, (verdicts = verdictsFor(edge)));
      const shape = exploitShape({ method: req.head.method, target: req.head.target, path: req.path, query: req.head.target.split('?').slice(1).join('?'), protocol: req.protocol, headers: req.head.headers });
      // Exploit shapes are refused in every zone: no legitimate client sends them.
      if (shape) return { allow: false, ...refusalFor(req.protocol, 403, { reasons: [`exploit-shape:${shape.id}`] }, `${shape.description} (${shape.cves.join(', ')})`) };
      // In every zone: a password there reaches Exchange past lockout and policy (browser sign-in
      // zones never get here: the sign-in pages gate sends these to the gateway's own page).
      if (isFormsSignInPath(req.path)) return { allow: false, ...refusalFor(req.protocol, 403, { reasons: ['forms-signin-refused'] }, `${req.path}: Exchange's forms sign-in is not reachable through the gateway`) };
      if (!edge.zones.includes(ctx.zone)) return verdicts[ctx.zone][req.protocol];
      const extra = edge.additionalPaths[req.protocol];
      const allowed = edge.allowedPaths?.[req.protocol] ?? DEFAULT_ALLOWED_PATHS[req.protocol];
      // additionalPaths come first: the first entry covering the path decides.
      if (!((extra && ruleVerdict(req.path, extra)) ?? pathAllowed(req.path, allowed))) {
        return { allow: false, ...refusalFor(req.protocol, 403, { reasons: ['path-not-allowed'] }, `${req.path} is not a published ${req.protocol} path`) };
      }
      if (req.protocol === 'rpc') {
        const q = req.head.target.includes('?') ? req.head.target.slice(req.head.target.indexOf('?') + 1) : '';
        const v = checkRpcTarget(q, Number(headerValue(req.head.headers, 'content-length') ?? '0'), edge.rpcTargets, s.directory.domains.upnSuffixes);
        if (!v.ok) return { allow: false, ...refusalFor('rpc', 403, { reasons: [v.reason] }, v.message) };
      }
      return verdicts[ctx.zone][req.protocol];
    },
  };
}
