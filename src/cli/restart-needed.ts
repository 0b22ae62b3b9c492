// What a reload cannot apply to a running gateway. Everything else (listeners, certificates, TLS
// settings, limits, zones, directory, policy, lockout, upstream) is applied by the reload itself.
import type { GatewayConfig } from '../config/schema.js';

export function restartNeeded(running: GatewayConfig, next: GatewayConfig): string[] {
  const out: string[] = [];
  if (JSON.stringify(running.workers) !== JSON.stringify(next.workers)) out.push(`workers: ${running.workers} → ${next.workers} takes effect after a restart`);
  if (JSON.stringify(running.admin) !== JSON.stringify(next.admin)) out.push('admin endpoint settings take effect after a restart');
  if (JSON.stringify(running.state) !== JSON.stringify(next.state)) out.push('state store settings take effect after a restart (revocations and locks stay where they are until then)');
  if ((running.signin === undefined) !== (next.signin === undefined)) out.push(`signin: browser sign-in is turned ${next.signin ? 'on' : 'off'} after a restart`);
  else if (running.signin && next.signin && running.signin.keyFile !== next.signin.keyFile) out.push('signin.keyFile takes effect after a restart');
  if (running.log.level !== next.log.level) out.push(`log.level: ${running.log.level} → ${next.log.level} takes effect after a restart`);
  return out;
}
