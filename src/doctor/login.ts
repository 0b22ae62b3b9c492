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

/**
 * One authenticated request: NTLM when offered (on the same connection, as clients do), else
 * Basic. A 401 after the credentials marks them rejected, and no later check tries them again:
 * the doctor makes at most one failed attempt per method, so it cannot lock the account.
 */
export async function login(p: ProbeContext, c: RawClient, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> {
  const creds = p.credentials!;
  const first = await c.request(method, path, headers, body);
  if (first.head.status !== 401) return first;
  const offers = offersOf(first);
  let last: RawResponse;
  if (offers.includes('ntlm')) {
    const r1 = await c.request(method, path, { ...headers, Authorization: `NTLM ${NEGOTIATE.toString('base64')}`, 'Content-Length': '0' });
    const challenge = /^NTLM (\S+)/.exec(r1.header('www-authenticate') ?? '')?.[1];
    if (!challenge) return r1;
    last = await c.request(method, path, { ...headers, Authorization: `NTLM ${await authenticateFor(challenge, creds.user, creds.domain, creds.password)}` }, body);
  } else if (offers.includes('basic')) {
    const name = creds.domain ? `${creds.domain}\\${creds.user}` : creds.user;
    p.basicAuthorization = `Basic ${Buffer.from(`${name}:${creds.password}`).toString('base64')}`;
    last = await c.request(method, path, { ...headers, Authorization: p.basicAuthorization }, body);
  } else return first;
  if (last.head.status === 401) p.credentialsRejected = true;
  return last;
}
