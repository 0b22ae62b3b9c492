import net from 'node:net';
import { type Outcome, finding, skip } from './check.js';
import type { ProbeContext } from './probe-context.js';

export async function dnsHost(p: ProbeContext): Promise<Outcome> {
  if (net.isIP(p.host)) return { status: 'info', evidence: [`${p.host} is an address literal; no DNS lookup`] };
  const addrs = await p.resolve(p.host);
  if (addrs.length === 0) return { status: 'fail', evidence: [`${p.host}: no A or AAAA record`], findings: [finding('DNS-HOST-UNRESOLVED', p.host)] };
  p.address = addrs[0];
  return { status: 'pass', evidence: [`${p.host} -> ${addrs.join(', ')}`] };
}

export async function dnsAutodiscover(p: ProbeContext): Promise<Outcome> {
  if (!p.domain || net.isIP(p.domain)) return skip('no mail domain (use --email user@domain)');
  const name = `autodiscover.${p.domain}`;
  const a = await p.resolve(name);
  const cname = await p.resolver.resolveCname(name).catch(() => [] as string[]);
  const srv = await p.resolver.resolveSrv(`_autodiscover._tcp.${p.domain}`).catch(() => []);
  const evidence = [
    `${name} -> ${a.length ? a.join(', ') : 'no address'}${cname.length ? ` (CNAME ${cname.join(', ')})` : ''}`,
    `_autodiscover._tcp.${p.domain} SRV -> ${srv.length ? srv.map((s) => `${s.name}:${s.port} (priority ${s.priority}, weight ${s.weight})`).join(', ') : 'none'}`,
  ];
  if (a.length > 0) return { status: 'pass', evidence };
  if (srv.length > 0) return { status: 'warn', evidence, findings: [finding('DNS-AUTODISCOVER-SRV-ONLY', name)] };
  return { status: 'fail', evidence, findings: [finding('DNS-AUTODISCOVER-MISSING', `${name} and _autodiscover._tcp.${p.domain}`)] };
}

export function tcpConnect(p: ProbeContext): Promise<Outcome> {
  if (!p.address) return Promise.resolve(skip(`${p.host} did not resolve`));
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect({ host: p.address!, port: p.port });
    const timer = setTimeout(() => s.destroy(new Error('ETIMEDOUT')), p.opts.timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      const ms = Math.round(performance.now() - t0);
      s.destroy();
      p.reachable = true;
      resolve({ status: ms > 1000 ? 'warn' : 'pass', evidence: [`connected to ${p.address}:${p.port} in ${ms} ms`], findings: ms > 1000 ? [finding('NET-CONNECT-SLOW', `${ms} ms`)] : [] });
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ status: 'fail', evidence: [`${p.address}:${p.port}: ${e.code ?? e.message}`], findings: [finding('NET-PORT-CLOSED', `TCP port ${p.port} on ${p.host}${p.address !== p.host ? ` (${p.address})` : ''}: ${e.code ?? e.message}`)] });
    });
  });
}
