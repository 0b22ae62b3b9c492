import { runCheck, type Outcome } from './check.js';
import { autodiscoverAnswer, autodiscoverCandidates, autodiscoverHttpRedirect } from './checks-autodiscover.js';
import { authSchemes, bodyStreaming, headerSize, redirects, rpcMethods } from './checks-http.js';
import { dnsAutodiscover, dnsHost, tcpConnect, tlsCertificate, tlsSameAsUpstream, tlsVersions } from './checks-network.js';
import { easOptions, ewsGetFolder, mapiPing, rpcEcho, rpcHandshake } from './checks-protocols.js';
import { ProbeContext } from './probe-context.js';
import { type CheckResult, type DoctorOptions, worst } from './types.js';

export interface DoctorReport {
  readonly url: string;
  readonly startedAt: string;
  readonly results: readonly CheckResult[];
  readonly status: 'pass' | 'warn' | 'fail';
  readonly exitCode: 0 | 1 | 2;
}

type Step = [group: string, title: string, fn: (p: ProbeContext) => Promise<Outcome>, protocol?: string];

/** The steps in the order RCA runs them: the host block first, then each protocol. */
const STEPS: readonly Step[] = [
  ['DNS', 'published host resolves', dnsHost],
  ['DNS', 'autodiscover.<domain> and SRV record', dnsAutodiscover, 'autodiscover'],
  ['Network', 'TCP connection to the published port', tcpConnect],
  ['TLS', 'certificate: trust, validity, names', tlsCertificate],
  ['TLS', 'protocol versions offered', tlsVersions],
  ['TLS', 'same certificate as Exchange (Extended Protection)', tlsSameAsUpstream],
  ['HTTP', 'RPC_IN_DATA and RPC_OUT_DATA pass', rpcMethods, 'rpc'],
  ['HTTP', 'request bodies stream (not buffered)', bodyStreaming, 'rpc'],
  ['HTTP', 'large request headers accepted', headerSize],
  ['HTTP', 'redirects stay on https and published names', redirects],
  ['Authentication', 'schemes offered per virtual directory', authSchemes],
  ['Autodiscover', 'endpoints in Outlook\'s order', autodiscoverCandidates, 'autodiscover'],
  ['Autodiscover', 'HTTP redirect method (port 80)', autodiscoverHttpRedirect, 'autodiscover'],
  ['Autodiscover', 'answer for the mailbox (credentialed)', autodiscoverAnswer, 'autodiscover'],
  ['Outlook Anywhere', 'RPC proxy echo on ports 6001, 6002, 6004', rpcEcho, 'rpc'],
  ['Outlook Anywhere', 'RTS handshake (CONN/A1..C2)', rpcHandshake, 'rpc'],
  ['MAPI over HTTP', 'PING', mapiPing, 'mapi'],
  ['EWS', 'GetFolder inbox (read-only)', ewsGetFolder, 'ews'],
  ['ActiveSync', 'OPTIONS', easOptions, 'eas'],
];

export async function runDoctor(opts: DoctorOptions, progress?: (r: CheckResult) => void): Promise<DoctorReport> {
  const p = new ProbeContext(opts);
  const results: CheckResult[] = [];
  for (const [group, title, fn, protocol] of STEPS) {
    if (protocol && !opts.protocols.includes(protocol)) continue;
    results.push(await runCheck(group, title, () => fn(p), progress));
  }
  const status = worst(results.map((r) => r.status));
  const s = status === 'fail' ? 'fail' : status === 'warn' ? 'warn' : 'pass';
  return { url: opts.url, startedAt: new Date().toISOString(), results, status: s, exitCode: s === 'fail' ? 2 : s === 'warn' ? 1 : 0 };
}
