import net from 'node:net';
import { type Outcome, finding, skip } from './check.js';
import { type Answer, MAX_REDIRECTS, followAutodiscover, isHtml } from './autodiscover-follow.js';
import { covers } from './checks-tls.js';
import { authProblem, describe, gatewayRefusal, login, needCreds, offersOf } from './login.js';
import type { ProbeContext } from './probe-context.js';
import type { Finding } from './types.js';

const POX = (email: string) =>
  `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${email}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;

/** POSTs the POX request to one URL on a fresh connection (no credentials) and classifies the answer. */
async function postPox(p: ProbeContext, url: URL): Promise<Answer> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const c = await p.connect(host, Number(url.port || 443));
  try {
    const r = await c.request('POST', `${url.pathname}${url.search}`, { 'Content-Type': 'text/xml' }, POX(p.opts.email ?? `probe@${p.domain}`));
    const body = r.body.subarray(0, 4096).toString('utf8');
    const exchangeLike = (r.head.status === 401 && offersOf(r).length > 0) || (r.head.status === 200 && /<Autodiscover/.test(body));
    return { status: r.head.status, location: r.header('location'), contentType: r.header('content-type') ?? '', body, exchangeLike, line: `${describe(r)}${exchangeLike ? ' (Exchange-like)' : ''}` };
  } finally {
    c.close();
  }
}

type Candidate = { readonly kind: 'root' | 'autodiscover' | 'srv'; readonly host: string; readonly port: number };

/** Outlook's order: root domain, autodiscover.<domain>, then the SRV record (the HTTP redirect method has its own check). */
export async function autodiscoverCandidates(p: ProbeContext): Promise<Outcome> {
  if (!p.domain || net.isIP(p.domain)) return skip('no mail domain (use --email user@domain)');
  // Not gated on the published host's state: the candidates may be other hosts.
  const evidence: string[] = [];
  const findings: Finding[] = [];
  const candidates: Candidate[] = [{ kind: 'root', host: p.domain, port: 443 }, { kind: 'autodiscover', host: `autodiscover.${p.domain}`, port: 443 }];
  const srvName = `_autodiscover._tcp.${p.domain}`;
  for (const s of await p.resolver.resolveSrv(srvName).catch(() => [])) candidates.push({ kind: 'srv', host: s.name.toLowerCase(), port: s.port });
  const rules = { resolves: async (h: string) => (await p.resolve(h)).length > 0, covered: (h: string) => p.certNames.length === 0 || covers(p.certNames, h) };
  let found: string | undefined;
  for (const cand of candidates) {
    const where = `https://${cand.host}${cand.port === 443 ? '' : `:${cand.port}`}/autodiscover/autodiscover.xml`;
    if (!(await rules.resolves(cand.host))) {
      evidence.push(`${where}: does not resolve`);
      continue;
    }
    const r = await followAutodiscover(where, (u) => postPox(p, u), rules);
    evidence.push(...r.lines);
    const e = r.end;
    if (e.kind === 'error') {
      evidence.push(`${where}: ${e.message}`);
      if (cand.kind === 'srv') findings.push(finding('AD-SRV-TARGET-UNREACHABLE', `${srvName} points at ${cand.host}:${cand.port}, which does not answer (${e.message})${cand.host === p.host && cand.port !== p.port ? `; ${p.host} is published on port ${p.port}` : ''}`));
      continue;
    }
    if (e.kind === 'loop' || e.kind === 'too-many') {
      findings.push(finding('AD-REDIRECT-LOOP', `${r.chain.join(' -> ')}${e.kind === 'too-many' ? ` (more than ${MAX_REDIRECTS} redirects)` : ' (loop)'}`));
      continue;
    }
    if (e.kind === 'wrong') {
      findings.push(finding('AD-REDIRECT-WRONG', `${r.chain.join(' -> ')}: ${e.why}`));
      continue;
    }
    if (e.answer.exchangeLike) {
      found ??= e.url;
      continue;
    }
    if (cand.kind === 'root') findings.push(finding('AD-ROOT-DOMAIN-TRAP', `${e.url} answered ${e.answer.status}`));
    else if (isHtml(e.answer)) findings.push(finding('AD-HTML-ANSWER', `${e.url} answered ${e.answer.status} with an HTML page${/<form|password|login|sign in/i.test(e.answer.body) ? ' (a login form)' : ''}`));
  }
  if (!found) {
    let detail = candidates.map((c) => `${c.host}${c.port === 443 ? '' : `:${c.port}`}`).join(', ');
    if (!candidates.some((c) => c.host === p.host)) {
      // Outlook never tries the published host itself; say whether pointing DNS at it would help.
      const direct = await postPox(p, new URL(`https://${p.host}:${p.port}/autodiscover/autodiscover.xml`)).catch(() => undefined);
      if (direct?.exchangeLike) {
        evidence.push(`not in Outlook's order: https://${p.host}:${p.port}/autodiscover/autodiscover.xml answers like Exchange`);
        detail += `; ${p.host} answers Autodiscover, but Outlook does not try it: point autodiscover.${p.domain} (CNAME) or ${srvName} at it`;
      }
    }
    // A redirect, an HTML page or a dead SRV target already names why no endpoint works.
    if (!findings.some((f) => f.id !== 'AD-ROOT-DOMAIN-TRAP')) findings.push(finding('AD-NO-ENDPOINT', detail));
    else if (detail.includes('Outlook does not try it')) evidence.push(detail.slice(detail.indexOf('; ') + 2));
  }
  return { status: !found || findings.some((f) => f.id.startsWith('AD-REDIRECT') || f.id === 'AD-SRV-TARGET-UNREACHABLE') ? 'fail' : findings.length ? 'warn' : 'pass', evidence: found ? [...evidence, `Outlook uses ${found}`] : evidence, findings };
}

/** Outlook's HTTP-redirect step: http://autodiscover.<domain>/… should answer 302 to an https URL. */
export async function autodiscoverHttpRedirect(p: ProbeContext): Promise<Outcome> {
  if (!p.domain) return skip('no mail domain (use --email user@domain)');
  const host = `autodiscover.${p.domain}`;
  const address = (await p.resolve(host))[0];
  if (!address) return { status: 'info', evidence: [`${host} does not resolve; step not offered`] };
  const answer = await new Promise<string | Error>((resolve) => {
    const s = net.connect({ host: address, port: 80 });
    let buf = '';
    const timer = setTimeout(() => s.destroy(new Error('no answer')), Math.min(p.opts.timeoutMs, 3000));
    s.once('connect', () => s.write(`GET /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    s.on('data', (d: Buffer) => (buf += d.toString('latin1')));
    s.once('end', () => {
      clearTimeout(timer);
      resolve(buf);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      resolve(e);
    });
  });
  if (answer instanceof Error) return { status: 'info', evidence: [`http://${host}/: ${answer.message} (step not offered)`] };
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? '?';
  const location = /\r\nlocation:\s*([^\r\n]+)/i.exec(answer)?.[1]?.trim();
  const evidence = [`GET http://${host}/autodiscover/autodiscover.xml -> ${status}${location ? `; Location: ${location}` : ''}`];
  if (status.startsWith('3') && location?.toLowerCase().startsWith('https://')) return { status: 'pass', evidence };
  return { status: 'warn', evidence, findings: [finding('AD-REDIRECT-INSECURE', `${status}${location ? ` -> ${location}` : ''}`)] };
}

function hostsIn(xml: string): string[] {
  const urls = [...xml.matchAll(/>(https?:\/\/[^<\s]+)</g)].map((m) => m[1]!.split('/')[2]!.toLowerCase());
  const servers = [...xml.matchAll(/<(?:Server|PublicFolderServer|AD)>([^<@]+)</g)].map((m) => m[1]!.toLowerCase());
  return [...new Set([...urls, ...servers])];
}

/** With credentials: the Outlook answer, its protocols, and any name outside clients cannot use. */
export async function autodiscoverAnswer(p: ProbeContext): Promise<Outcome> {
  if (!p.credentials || !p.opts.email) {
    p.autodiscoverFailed = 'Autodiscover was not asked (needs --email, --user and --password-stdin)';
    return skip('needs --email, --user and --password-stdin');
  }
  const pre = needCreds(p);
  if (pre) {
    p.autodiscoverFailed = `Autodiscover could not be asked (${pre.evidence?.[0] ?? 'skipped'})`;
    return pre;
  }
  const c = await p.connect();
  try {
    const r = await login(p, c, 'POST', '/autodiscover/autodiscover.xml', { 'Content-Type': 'text/xml', 'X-MapiHttpCapability': '1', 'X-AnchorMailbox': p.opts.email }, POX(p.opts.email));
    const refused = gatewayRefusal(r);
    if (refused) {
      p.autodiscoverFailed = `the gateway refused Autodiscover (${refused})`;
      return { status: 'warn', evidence: [describe(r)], findings: [finding('GATEWAY-POLICY-DENIED', `Autodiscover: ${refused}`)] };
    }
    const bad = authProblem(p, 'Autodiscover', [describe(r)]);
    if (bad) {
      p.autodiscoverFailed = 'Autodiscover did not accept the login';
      return bad;
    }
    const xml = r.body.toString('utf8');
    if (r.head.status !== 200 || !/<Autodiscover/.test(xml) || /<Error/.test(xml)) {
      const location = r.header('location');
      p.autodiscoverFailed = `Autodiscover answered ${r.head.status}${location ? ` (redirect to ${location})` : ''} instead of the settings`;
      // One line of the body (an error page, a login form), not the page itself.
      const gist = xml.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 160);
      return { status: 'fail', evidence: [`${describe(r)}${location ? `; Location: ${location}` : ''}`, ...(gist ? [`body: ${gist}`] : [])], findings: [finding('AD-ANSWER-INVALID', `${r.head.status}${location ? ` redirect to ${location} (see the endpoints check)` : ''}`)] };
    }
    const types = [...xml.matchAll(/<Type>([^<]+)<\/Type>/g)].map((m) => m[1]!);
    const mapiHttp = /Type="mapiHttp"/.test(xml);
    p.autodiscover = { xml, mapiHttp, rpcServer: /<Server>([^<]+@[^<]+)<\/Server>/.exec(xml)?.[1] };
    const evidence = [describe(r), `protocols: ${[...new Set(types)].join(', ')}${mapiHttp ? ', mapiHttp' : ''}`];
    const findings = [];
    const bad2: string[] = [];
    const uncovered: string[] = [];
    const certFitsHost = covers(p.certNames, p.host);
    for (const h of hostsIn(xml)) {
      const name = h.split(':')[0]!;
      const internal = /\.(local|lan|internal|corp|localdomain)$/.test(name) || (await p.resolve(name)).length === 0;
      // A name the certificate lacks is a certificate problem, not an internal name; and if the
      // certificate does not even fit the published host, that one problem is already reported.
      const notInCert = !internal && certFitsHost && !covers(p.certNames, name);
      evidence.push(`name ${h}: ${internal ? 'NOT usable from outside' : notInCert ? 'published, but not in the certificate' : 'published'}`);
      if (internal) bad2.push(h);
      if (notInCert) uncovered.push(name);
    }
    if (bad2.length) findings.push(finding('AD-INTERNAL-NAMES', bad2.join(', ')));
    if (uncovered.length) findings.push(finding('TLS-SAN-MISSING', `${[...new Set(uncovered)].join(', ')} (handed out by Autodiscover)`));
    if (p.opts.protocols.includes('mapi') && !mapiHttp) findings.push(finding('MAPI-HTTP-DISABLED', 'no mapiHttp block in the Autodiscover answer'));
    return { status: bad2.length || uncovered.length ? 'fail' : findings.length ? 'warn' : 'pass', evidence, findings };
  } finally {
    c.close();
  }
}
