import { DEFAULT_ALLOWED_PATHS } from '../classify/edge-schema.js';
import { checkRpcTarget, exploitShape, pathAllowed } from '../classify/edge-rules.js';
import type { GateVerdict, RequestGate } from '../forward/gate.js';
import { headerValue } from '../http/headers.js';
import type { AccessState } from './access-gate.js';
import { refusalFor } from './refusal.js';

/**
 * The hardened edge, asked before identity: published exploit shapes, the per-protocol path
 * allow-list and the RPC target allow-list. In zones where it applies it also trims the
 * authentication schemes offered in 401 answers to the configured ones.
 */
export function edgeGate(state: () => AccessState): RequestGate {
  return {
    check(ctx, req): GateVerdict {
      const s = state();
      const edge = s.config.edge;
      const shape = exploitShape({ method: req.head.method, target: req.head.target, path: req.path, query: req.head.target.split('?').slice(1).join('?'), protocol: req.protocol, headers: req.head.headers });
      // Exploit shapes are refused in every zone: no legitimate client sends them.
      if (shape) return { allow: false, ...refusalFor(req.protocol, 403, { reasons: [`exploit-shape:${shape.id}`] }, `${shape.description} (${shape.cves.join(', ')})`) };
      if (!edge.zones.includes(ctx.zone)) return { allow: true };
      const allowed = edge.allowedPaths?.[req.protocol] ?? DEFAULT_ALLOWED_PATHS[req.protocol];
      if (!pathAllowed(req.path, allowed)) {
        return { allow: false, ...refusalFor(req.protocol, 403, { reasons: ['path-not-allowed'] }, `${req.path} is not a published ${req.protocol} path`) };
      }
      if (req.protocol === 'rpc') {
        const q = req.head.target.includes('?') ? req.head.target.slice(req.head.target.indexOf('?') + 1) : '';
        const v = checkRpcTarget(q, Number(headerValue(req.head.headers, 'content-length') ?? '0'), edge.rpcTargets, s.directory.domains.upnSuffixes);
        if (!v.ok) return { allow: false, ...refusalFor('rpc', 403, { reasons: [v.reason] }, v.message) };
      }
      const offered = edge.offeredSchemes[req.protocol];
      if (!offered) return { allow: true };
      const keep = new Set(offered.map((o) => o.toLowerCase()));
      return {
        allow: true,
        onResponse: (h) => {
          if (h.status !== 401) return { pass: true };
          // Bare offers only: a challenge ("NTLM <token>") belongs to a handshake already under way.
          const headers = h.headers.filter((f) => f.name.toLowerCase() !== 'www-authenticate' || f.value.includes(' ') && !/^basic /i.test(f.value) || keep.has(f.value.split(' ')[0]!.toLowerCase()));
          return headers.length === h.headers.length ? { pass: true } : { pass: true, headers };
        },
      };
    },
  };
}
