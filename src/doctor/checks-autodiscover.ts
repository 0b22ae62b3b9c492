import net from 'node:net';
import { type Outcome, finding, skip } from './check.js';
import { describe, login, offersOf } from './login.js';
import type { ProbeContext } from './probe-context.js';

const POX = (email: string) =>
  `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${email}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;

/** Outlook's order: root domain, autodiscover.<domain>, then SRV (the HTTP redirect needs port 80). */
export async function autodiscoverCandidates(p: ProbeContext): Promise<Outcome> {
  if (!p.domain) return skip('no mail domain (use --email user@domain)');
  const evidence: string[] = [];
  const findings = [];
  const hosts: Array<[string, number]> = [[p.domain, 443], [`autodiscover.${p.domain}`, 443]];
  const srv = await p.resolver.resolveSrv(`_autodiscover._tcp.${p.domain}`).catch(() => []);
  for (const s of srv) hosts.push([s.name, s.port]);
  if (p.host !== p.domain && !hosts.some(([h]) => h === p.host)) hosts.push([p.host, p.port]);
  let found: string | undefined;
  for (const [host, port] of hosts) {
    const where = `https://${host}${port === 443 ? '' : `:${port}`}/autodiscover/autodiscover.xml`;
    if ((await p.resolve(host)).length === 0) {
      evidence.push(`${where}: does not resolve`);
      continue;
    }
    const c = await p.connect(host, host === p.host ? p.port : port).catch((e: Error) => e);
    if (c instanceof Error) {
      evidence.push(`${where}: ${c.message}`);
      continue;
    }
    try {
      const r = await c.request('POST', '/autodiscover/autodiscover.xml', { 'Content-Type': 'text/xml' }, POX(p.opts.email ?? `probe@${p.domain}`));
      const exchangeLike = r.head.status === 401 && offersOf(r).length > 0;
      evidence.push(`${where}: ${describe(r)}${exchangeLike ? ' (Exchange-like)' : ''}`);
      if (exchangeLike) found ??= where;
      else if (host === p.domain) findings.push(finding('AD-ROOT-DOMAIN-TRAP', `${where} answered ${r.head.status}`));
    } catch (e) {
      evidence.push(`${where}: ${(e as Error).message}`);
    } finally {
      c.close();
    }
  }
  if (!found) findings.push(finding('AD-NO-ENDPOINT', hosts.map(([h]) => h).join(', ')));
  return { status: !found ? 'fail' : findings.length ? 'warn' : 'pass', evidence: found ? [...evidence, `using ${found}`] : evidence, findings };
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
  if (!p.credentials || !p.opts.email) return skip('needs --email, --user and --password-stdin');
  if (!p.reachable) return skip('TCP connection failed');
  const c = await p.connect();
  try {
    const r = await login(p, c, 'POST', '/autodiscover/autodiscover.xml', { 'Content-Type': 'text/xml', 'X-MapiHttpCapability': '1', 'X-AnchorMailbox': p.opts.email }, POX(p.opts.email));
    if (p.credentialsRejected) return { status: 'fail', evidence: [describe(r)], findings: [finding('AUTH-CREDENTIALS-REJECTED', 'Autodiscover')] };
    const xml = r.body.toString('utf8');
    if (r.head.status !== 200 || !/<Autodiscover/.test(xml) || /<Error/.test(xml)) return { status: 'fail', evidence: [describe(r), xml.slice(0, 300)], findings: [finding('AD-ANSWER-INVALID', `${r.head.status}`)] };
    const types = [...xml.matchAll(/<Type>([^<]+)<\/Type>/g)].map((m) => m[1]!);
    const mapiHttp = /Type="mapiHttp"/.test(xml);
    p.autodiscover = { xml, mapiHttp, rpcServer: /<Server>([^<]+@[^<]+)<\/Server>/.exec(xml)?.[1] };
    const evidence = [describe(r), `protocols: ${[...new Set(types)].join(', ')}${mapiHttp ? ', mapiHttp' : ''}`];
    const findings = [];
    const bad: string[] = [];
    for (const h of hostsIn(xml)) {
      const name = h.split(':')[0]!;
      const internal = /\.(local|lan|internal|corp|localdomain)$/.test(name) || (await p.resolve(name)).length === 0 || (p.certNames.length > 0 && !p.certNames.includes(name));
      evidence.push(`name ${h}: ${internal ? 'NOT usable from outside' : 'published'}`);
      if (internal) bad.push(h);
    }
    if (bad.length) findings.push(finding('AD-INTERNAL-NAMES', bad.join(', ')));
    if (p.opts.protocols.includes('mapi') && !mapiHttp) findings.push(finding('MAPI-HTTP-DISABLED', 'no mapiHttp block in the Autodiscover answer'));
    return { status: bad.length ? 'fail' : findings.length ? 'warn' : 'pass', evidence, findings };
  } finally {
    c.close();
  }
}
