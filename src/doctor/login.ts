import { REFERENCE_HEADER } from '../forward/reference-id.js';
import { type Outcome, finding, skip } from './check.js';
import type { RawClient, RawResponse } from './http-probe.js';
import { NEGOTIATE, authenticateFor } from './ntlm-client.js';
import type { ProbeContext } from './probe-context.js';

/** Schemes offered in a 401 answer, lower-case ("negotiate", "ntlm", "basic", …). */
export function offersOf(r: RawResponse): string[] {
  return r.head.headers.filter((h) => h.name.toLowerCase() === 'www-authenticate').map((h) => h.value.split(' ')[0]!.toLowerCase());
}

export function describe(r: RawResponse): string {
  return `HTTP/${r.head.version} ${r.head.status} ${r.head.reason}${offersOf(r).length ? `; WWW-Authenticate: ${offersOf(r).join(', ')}` : ''}`;
}

/** A refusal by the Portcullis gateway's own policy (X-Portcullis-Reason), as "reason (reference id)". */
export function gatewayRefusal(r: RawResponse): string | undefined {
  const reason = r.header('x-portcullis-reason');
  if (!reason) return undefined;
  const ref = r.header(REFERENCE_HEADER);
  return `${r.head.status}, reason ${reason}${ref ? ` (reference ${ref}: the gateway's log line has the rule)` : ''}`;
}

/** Did the peer end the connection with this answer (Connection: close, or the socket closed right after)? */
async function closedAfter(c: RawClient, r: RawResponse): Promise<string | undefined> {
  if (/\bclose\b/i.test(r.header('connection') ?? '')) return 'Connection: close';
  // A peer that closes after the answer has its FIN right behind it; a short look is enough.
  await c.waitClosed(25).catch(() => undefined);
  return c.closed ? 'the connection was closed' : undefined;
}

/**
 * One authenticated request: NTLM when offered (on the same connection, as clients do), else
 * Basic. A 401 after the credentials marks them rejected, and no later check tries them again:
 * the doctor makes at most one failed attempt per method, so it cannot lock the account.
 * Two path faults are told apart from a wrong password: the challenge ends the connection
 * (AUTH-NTLM-CONNECTION-CLOSED), or NTLM fails where Basic with the same password works
 * (AUTH-NTLM-AFFINITY-LOST: the challenge and the response reached different upstream connections).
 */
export async function login(p: ProbeContext, c: RawClient, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<RawResponse> {
  const creds = p.credentials!;
  const first = await c.request(method, path, headers, body);
  if (first.head.status !== 401) return first;
  const offers = offersOf(first);
  const basic = async (): Promise<RawResponse> => {
    const name = creds.domain ? `${creds.domain}\\${creds.user}` : creds.user;
    p.basicAuthorization = `Basic ${Buffer.from(`${name}:${creds.password}`).toString('base64')}`;
    return c.request(method, path, { ...headers, Authorization: p.basicAuthorization }, body);
  };
  let last: RawResponse;
  if (offers.includes('ntlm') && !p.ntlmBroken) {
    const r1 = await c.request(method, path, { ...headers, Authorization: `NTLM ${NEGOTIATE.toString('base64')}`, 'Content-Length': '0' });
    const challenge = /^NTLM (\S+)/.exec(r1.header('www-authenticate') ?? '')?.[1];
    if (!challenge) return r1;
    const closed = await closedAfter(c, r1);
    if (closed) {
      p.ntlmBroken = 'AUTH-NTLM-CONNECTION-CLOSED';
      p.raise(finding(p.ntlmBroken, `${method} ${path.split('?')[0]}: the NTLM challenge came with ${closed}`));
      return r1;
    }
    last = await c.request(method, path, { ...headers, Authorization: `NTLM ${await authenticateFor(challenge, creds.user, creds.domain, creds.password)}` }, body);
    if (last.head.status === 401 && offers.includes('basic') && !c.closed) {
      const b = await basic();
      // Only a real success proves the password right (a 403 may be the gateway's policy).
      if (b.head.status < 400) {
        p.ntlmBroken = 'AUTH-NTLM-AFFINITY-LOST';
        p.raise(finding(p.ntlmBroken, `${method} ${path.split('?')[0]}: NTLM was refused, Basic with the same password was accepted (the doctor uses Basic from here on)`));
        return b;
      }
      last = b;
    }
  } else if (offers.includes('basic')) {
    last = await basic();
  } else return first;
  if (last.head.status === 401) p.credentialsRejected = true;
  return last;
}

/** After a login: the outcome when authentication itself failed (rejected credentials, a path that closes NTLM connections). */
export function authProblem(p: ProbeContext, what: string, evidence: readonly string[]): Outcome | undefined {
  if (p.ntlmBroken === 'AUTH-NTLM-CONNECTION-CLOSED') return { status: 'fail', evidence };
  if (p.credentialsRejected) return { status: 'fail', evidence, findings: [finding('AUTH-CREDENTIALS-REJECTED', what)] };
  return undefined;
}

/** The skip a credentialed check returns before it starts, or undefined when it can run. */
export function needCreds(p: ProbeContext): Outcome | undefined {
  const b = p.blocked();
  if (b) return b;
  if (!p.credentials) return skip('needs --user and --password-stdin');
  if (p.credentialsRejected) return skip('credentials were rejected earlier; not tried again');
  if (p.ntlmBroken === 'AUTH-NTLM-CONNECTION-CLOSED') return skip('NTLM cannot work on this path: see AUTH-NTLM-CONNECTION-CLOSED above');
  return undefined;
}
