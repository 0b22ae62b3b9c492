import { runCheck, type Outcome } from './check.js';
import { autodiscoverAnswer, autodiscoverCandidates, autodiscoverHttpRedirect } from './checks-autodiscover.js';
import { authSchemes, bodyStreaming, headerSize, redirects, rpcMethods } from './checks-http.js';
import { idleChannels } from './checks-idle.js';
import { dnsAutodiscover, dnsHost, tcpConnect } from './checks-network.js';
import { http11, ntlmConnection, serverClock } from './checks-path.js';
import { easOptions, ewsGetFolder, mapiPing, rpcEcho, rpcHandshake } from './checks-protocols.js';
import { tlsCertificate, tlsRevocation, tlsSameAsUpstream, tlsVersions } from './checks-tls.js';
import { CATALOG } from './catalog.js';
import { ProbeContext } from './probe-context.js';
import { shortTlsError } from './tls-probe.js';
import { type CheckResult, type DoctorOptions, type Finding, type Status, worst } from './types.js';

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
  ['TLS', 'certificate: chain, trust, validity, names', tlsCertificate],
  ['TLS', 'protocol versions offered', tlsVersions],
  ['TLS', 'revocation URLs (OCSP, CRL) answer', tlsRevocation],
  ['TLS', 'same certificate as Exchange (Extended Protection)', tlsSameAsUpstream],
  ['HTTP', 'HTTP/1.1 spoken (not HTTP/2 only)', http11],
  ['HTTP', 'RPC_IN_DATA and RPC_OUT_DATA pass', rpcMethods, 'rpc'],
  ['HTTP', 'request bodies stream (not buffered)', bodyStreaming, 'rpc'],
  ['HTTP', 'large request headers accepted', headerSize],
  ['HTTP', 'redirects stay on https and published names', redirects],
  ['HTTP', 'server clock', serverClock],
  ['Authentication', 'schemes offered per virtual directory', authSchemes],
  ['Authentication', 'NTLM challenge keeps the connection open', ntlmConnection],
  ['Autodiscover', 'endpoints in Outlook\'s order', autodiscoverCandidates, 'autodiscover'],
  ['Autodiscover', 'HTTP redirect method (port 80)', autodiscoverHttpRedirect, 'autodiscover'],
  ['Autodiscover', 'answer for the mailbox (credentialed)', autodiscoverAnswer, 'autodiscover'],
  ['Outlook Anywhere', 'RPC proxy echo on ports 6001, 6002, 6004', rpcEcho, 'rpc'],
  ['Outlook Anywhere', 'RTS handshake (CONN/A1..C2)', rpcHandshake, 'rpc'],
  ['MAPI over HTTP', 'PING', mapiPing, 'mapi'],
  ['Long-lived channels', 'idle RPC channels and MAPI NotificationWait stay open', idleChannels],
  ['EWS', 'GetFolder inbox (read-only)', ewsGetFolder, 'ews'],
  ['ActiveSync', 'OPTIONS', easOptions, 'eas'],
];

const SEVERITY_STATUS: Record<string, Status> = { fail: 'fail', warn: 'warn', info: 'info' };

/** Adds the findings shared helpers raised during a check (the login's path diagnoses) to its outcome. */
function withRaised(o: Outcome, raised: readonly Finding[]): Outcome {
  if (raised.length === 0) return o;
  const status = worst([o.status, ...raised.map((f) => SEVERITY_STATUS[CATALOG[f.id]?.severity ?? 'fail']!)]);
  return { ...o, status, findings: [...raised, ...(o.findings ?? [])] };
}

export async function runDoctor(opts: DoctorOptions, progress?: (r: CheckResult) => void): Promise<DoctorReport> {
  const p = new ProbeContext(opts);
  const results: CheckResult[] = [];
  for (const [group, title, fn, protocol] of STEPS) {
    if (protocol && !opts.protocols.includes(protocol)) continue;
    results.push(
      await runCheck(group, title, async () => {
        let o: Outcome;
        try {
          o = await fn(p);
        } catch (e) {
          o = { status: 'fail', evidence: [`error: ${shortTlsError((e as Error).message)}`] };
        }
        return withRaised(o, p.takeRaised());
      }, progress),
    );
  }
  const status = worst(results.map((r) => r.status));
  const s = status === 'fail' ? 'fail' : status === 'warn' ? 'warn' : 'pass';
  return { url: opts.url, startedAt: new Date().toISOString(), results, status: s, exitCode: s === 'fail' ? 2 : s === 'warn' ? 1 : 0 };
}
