// When an answer from Exchange proves that it authenticated the connection. Binding an identity on
// any non-401 answer let a client rebind a connection with a wrong password sent to an endpoint
// that answers anonymously (autodiscover.json) or with a 100 Continue (issue #10).
import type { Protocol } from '../vocabulary/protocols.js';

/** Whether Exchange serves this path only to authenticated clients. */
export function requiresAuthentication(protocol: Protocol, path: string, anonymousPaths: readonly string[]): boolean {
  if (protocol === 'unknown') return false;
  return !anonymousPaths.some((p) => {
    const q = p.toLowerCase();
    return path === q || path.startsWith(q.endsWith('/') ? q : `${q}/`);
  });
}

/**
 * A final answer that proves authentication: 2xx from an endpoint that requires it. Not 100
 * Continue (sent before the body, by some endpoints before authenticating), not a redirect or an
 * error (front ends answer some of those before authenticating), not an anonymous endpoint.
 */
export function provesAuthentication(status: number, requiresAuth: boolean): boolean {
  return requiresAuth && status >= 200 && status < 300;
}
