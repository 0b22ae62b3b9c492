// The gateway's own readiness checks: Exchange reachable (a TLS handshake, cached for a few
// seconds so a probe every second does not become a handshake every second), the directory
// answering or within its grace period.
import type { DirectoryProvider } from '../directory/provider.js';
import type { UpstreamConfig } from '../forward/forward-schema.js';
import { type UpstreamTarget, connectUpstream, describeUpstreamError, upstreamTarget } from '../forward/upstream-connect.js';
import type { CheckResult, ReadinessCheck } from './readiness.js';

const UPSTREAM_PROBE_EVERY_MS = 5_000;

/** Exchange accepts a TLS connection (the same options as the pinned connections use; a reload's new upstream is probed from then on). */
export function upstreamCheck(upstream: () => UpstreamConfig): ReadinessCheck {
  let last: { at: number; result: Promise<CheckResult> } | undefined;
  let target: { readonly config: UpstreamConfig; readonly target: UpstreamTarget } | undefined;
  return () => {
    if (last && Date.now() - last.at < UPSTREAM_PROBE_EVERY_MS) return last.result;
    const cfg = upstream();
    if (target?.config !== cfg) target = { config: cfg, target: upstreamTarget(cfg) };
    const t = target.target;
    const timeoutMs = cfg.connectTimeout;
    const result = new Promise<CheckResult>((resolve) => {
      const s = connectUpstream(t);
      const timer = setTimeout(() => s.destroy(Object.assign(new Error('connect timeout'), { code: 'PC_CONNECT_TIMEOUT' })), timeoutMs);
      s.once('secureConnect', () => {
        clearTimeout(timer);
        s.destroy();
        resolve({ ok: true });
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // The cause names no host: probes answer anyone, and internal names stay inside.
        resolve({ ok: false, cause: describeUpstreamError(e, 'connect').message });
      });
    });
    last = { at: Date.now(), result };
    return result;
  };
}

/** The directory answers, or cannot but its cached answers still serve (grace period). */
export function directoryCheck(directory: () => DirectoryProvider): ReadinessCheck {
  return () => directory().health?.() ?? { ok: true };
}
