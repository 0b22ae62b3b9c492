import type { Protocol } from '../vocabulary/protocols.js';
import type { DirectoryUser } from '../directory/file-schema.js';
import { parseNtlm } from '../identity/ntlm.js';
import { negTokenResp, parseNegotiate } from '../identity/spnego.js';
import type { LabRequest, LabResponse } from './lab-http.js';
import { DEFAULT_SCHEMES, type LabLogEntry, type LabScheme, type LabState, identityOf, labDomain } from './lab-context.js';
import { buildChallenge, verifyNtlmV2 } from './ntlm-server.js';

function offers(state: LabState, protocol: Protocol): { name: string; value: string }[] {
  const schemes = state.options.auth[protocol] ?? DEFAULT_SCHEMES;
  return schemes.map((s) => ({
    name: 'WWW-Authenticate',
    value: s === 'Basic' ? `Basic realm="${new URL(state.externalUrl).hostname}"` : s,
  }));
}

function unauthorized(state: LabState, protocol: Protocol, res: LabResponse, extra: { name: string; value: string }[] = []): void {
  res.send(401, 'Unauthorized', '401 - Unauthorized: Access is denied due to invalid credentials.\r\n', 'text/html', [
    ...(extra.length ? extra : offers(state, protocol)),
  ]);
}

/** Exchange checks a password with a domain controller: that round trip, when configured. */
function checkDelay(state: LabState): Promise<void> | undefined {
  const ms = state.options.authDelayMs ?? 0;
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : undefined;
}

/** A user Windows would log on: enabled, and not with an expired password (AD refuses that to Basic and NTLM). */
function enabledUser(u: DirectoryUser | undefined): DirectoryUser | undefined {
  return u && u.enabled && !u.passwordExpired ? u : undefined;
}

/**
 * IIS-like authentication: NTLM and Negotiate(NTLM) authenticate the connection, Basic each
 * request. Returns the identity, or undefined after answering 401 itself.
 */
export async function authenticate(state: LabState, protocol: Protocol, req: LabRequest, res: LabResponse, entry: LabLogEntry): Promise<string | undefined> {
  const allowed = state.options.auth[protocol] ?? DEFAULT_SCHEMES;
  const header = req.header('authorization');
  if (!header) {
    if (req.conn.identity) return req.conn.identity;
    unauthorized(state, protocol, res);
    return undefined;
  }
  const sp = header.indexOf(' ');
  const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase();
  const token = sp < 0 ? '' : header.slice(sp + 1).trim();
  const dir = state.options.directory;
  if (scheme === 'basic' && allowed.includes('Basic')) {
    (entry as { authorization: string }).authorization = 'Basic';
    await checkDelay(state);
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const name = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    (entry as { claimedUser: string }).claimedUser = name;
    const u = enabledUser(dir.resolveLogon(name));
    if (u && u.password !== undefined && u.password === password) {
      req.identity = identityOf(u);
      return req.identity;
    }
    unauthorized(state, protocol, res);
    return undefined;
  }
  const ntlmScheme: LabScheme | undefined = scheme === 'ntlm' ? 'NTLM' : scheme === 'negotiate' ? 'Negotiate' : undefined;
  if (!ntlmScheme || !allowed.includes(ntlmScheme)) {
    unauthorized(state, protocol, res);
    return undefined;
  }
  let raw: Buffer = Buffer.from(token, 'base64');
  let wrapped = false;
  if (ntlmScheme === 'Negotiate') {
    const neg = parseNegotiate(raw);
    if (!neg.ok || neg.token.kind !== 'ntlm') {
      // The lab speaks NTLM only: Kerberos or a malformed token gets the plain offers again.
      (entry as { authorization: string }).authorization = `Negotiate (${neg.ok ? neg.token.kind : neg.error})`;
      unauthorized(state, protocol, res);
      return undefined;
    }
    raw = neg.token.ntlm;
    wrapped = neg.token.wrapped;
  }
  const parsed = parseNtlm(raw);
  if (!parsed.ok) {
    (entry as { authorization: string }).authorization = `${ntlmScheme} (not NTLM: ${parsed.error})`;
    unauthorized(state, protocol, res);
    return undefined;
  }
  const msg = parsed.message;
  (entry as { authorization: string }).authorization = `${ntlmScheme} type ${msg.type}`;
  if (msg.type === 1) {
    req.conn.identity = undefined;
    const t = state.options;
    const domain = labDomain(t);
    const { message, serverChallenge } = buildChallenge(msg.flags, {
      netbiosDomain: dir.data.domains.netbios[0]!,
      netbiosComputer: t.netbiosComputer,
      dnsDomain: domain,
      dnsComputer: `${t.netbiosComputer.toLowerCase()}.${domain}`,
    });
    req.conn.ntlmChallenge = { serverChallenge, scheme: ntlmScheme };
    const challengeToken = wrapped ? negTokenResp(1, message) : message;
    unauthorized(state, protocol, res, [{ name: 'WWW-Authenticate', value: `${ntlmScheme} ${challengeToken.toString('base64')}` }]);
    return undefined;
  }
  if (msg.type === 3) {
    await checkDelay(state);
    const challenge = req.conn.ntlmChallenge;
    req.conn.ntlmChallenge = undefined;
    const claimed = msg.domain ? `${msg.domain}\\${msg.user}` : msg.user;
    (entry as { claimedUser: string }).claimedUser = claimed;
    const u = enabledUser(msg.domain ? dir.byDownLevel(msg.domain, msg.user) : dir.resolveLogon(msg.user));
    if (challenge && u?.password !== undefined && !msg.anonymous && (await verifyNtlmV2(msg, challenge.serverChallenge, u.password))) {
      req.conn.identity = identityOf(u);
      // SPNEGO ends with an accept-completed NegTokenResp on the successful answer.
      if (wrapped) req.responseHeaders.push({ name: 'WWW-Authenticate', value: `Negotiate ${negTokenResp(0).toString('base64')}` });
      return req.conn.identity;
    }
  }
  req.conn.identity = undefined;
  unauthorized(state, protocol, res);
  return undefined;
}

