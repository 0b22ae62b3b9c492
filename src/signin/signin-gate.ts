// In the access gate's place: requests for /owa and /ecp from browsers in the sign-in zones are
// the gateway's (a session, or the way to the sign-in page); everything else goes to the access
// gate as before (NTLM, Basic, Bearer clients; other protocols; health probes), with the
// gateway's own cookies taken out before anything reaches Exchange.
import type { ConnectionContext } from '../forward/connection-context.js';
import type { GateRequest, GateVerdict, RequestGate } from '../forward/gate.js';
import { headerValue } from '../http/headers.js';
import type { AccessControl } from '../policy/access-gate.js';
import { isHealthProbe } from '../policy/health-probes.js';
import { SESSION_COOKIE, cookieValues, withoutGatewayCookies } from './cookie-jar.js';
import { toSignIn, sessionVerdict } from './session-gate.js';
import { type SigninDeps, findSession } from './signin-deps.js';
import { signOut } from './signin-pages-gate.js';
import type { SigninProtocol } from './signin-schema.js';

/** Exchange's sign-out addresses: with a gateway session they end it (and Exchange's). */
const LOGOFF = new Set(['/owa/logoff.owa', '/owa/auth/logoff.aspx', '/ecp/logoff.aspx']);

function stripped(v: GateVerdict): GateVerdict {
  if (!v.allow) return v;
  const inner = v.requestHeaders;
  return { ...v, requestHeaders: (h) => withoutGatewayCookies(inner ? inner(h) : h) };
}

/** Hands a request to the access gate, the gateway's cookies taken out of what is forwarded. */
function delegate(access: AccessControl, ctx: ConnectionContext, req: GateRequest): GateVerdict | Promise<GateVerdict> {
  const v = access.check(ctx, req);
  return v instanceof Promise ? v.then(stripped) : stripped(v);
}

export function signinGate(d: SigninDeps, access: AccessControl): RequestGate {
  return {
    name: 'signin',
    check(ctx, req) {
      const cfg = d.config();
      const browser =
        cfg !== undefined &&
        cfg.zones.includes(ctx.zone) &&
        cfg.protocols.includes(req.protocol as SigninProtocol) &&
        headerValue(req.head.headers, 'authorization') === undefined &&
        !isHealthProbe(req.head.method, req.path);
      if (!browser) return delegate(access, ctx, req);
      const hasCookie = cookieValues(req.head.headers, SESSION_COOKIE).length > 0;
      // A connection proven with NTLM or Basic stays that client's, unless it brings a session.
      if (!hasCookie && ctx.identity && ctx.identity.via !== 'Forms') return delegate(access, ctx, req);
      if (!hasCookie) return toSignIn(req.head.method === 'GET' ? req.head.target : `/${req.protocol}/`, ['signin-required'], false, 'no session');
      return findSession(d, req.head.headers).then((s) => {
        if (LOGOFF.has(req.path)) {
          return { allow: false, status: 200, reason: 'signed-out', message: 'sign-out', local: { maxBody: 64 * 1024, answer: () => signOut(d, req, s) } } as GateVerdict;
        }
        return sessionVerdict(d, ctx, req, s);
      });
    },
  };
}
