// What is valid but probably not what the admin meant. Warnings: `config check` prints them and
// `serve` logs them at every start; none stops the gateway.
import type { Protocol } from '../vocabulary/protocols.js';
import { compilePolicy, evaluate } from '../policy/evaluate.js';
import type { GatewayConfig } from './schema.js';
import type { Problem } from '../yaml/yaml-source.js';

type Place = (at: ReadonlyArray<PropertyKey>, message: string) => Problem;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Protocols a Windows client authenticates to with Negotiate (and so Kerberos, when domain-joined). */
const INTEGRATED_AUTH: readonly Protocol[] = ['autodiscover', 'rpc', 'mapi', 'ews', 'oab'];

/** Where nothing stops Exchange's `Negotiate` offer reaching clients of the internal zone. */
function negotiateOffered(c: GatewayConfig, p: Protocol): boolean {
  if (c.policy.stripNegotiate.includes('internal')) return false;
  const offered = c.edge.zones.includes('internal') ? c.edge.offeredSchemes[p] : undefined;
  return offered === undefined || offered.includes('Negotiate');
}

const NO_STATES = { isRevoked: () => false, isLockedOut: () => false };

export function configWarnings(c: GatewayConfig, raw: unknown, place: Place): Problem[] {
  const warnings: Problem[] = [];
  if (c.upstream.tls.insecure) {
    warnings.push(place(['upstream', 'tls', 'insecure'], 'upstream TLS verification is OFF: anyone on the path can impersonate Exchange'));
  }
  const rawListeners = isObject(raw) && Array.isArray(raw['listeners']) ? raw['listeners'] : [];
  c.listeners.forEach((l, i) => {
    // The schema's default keeps a first start safe, but an admin who left it out expected the
    // gateway to be reachable: say where it listens.
    if (isObject(rawListeners[i]) && !('address' in rawListeners[i])) {
      warnings.push(place(['listeners', i], `no address: listening on ${l.address} (loopback) only, so no other host can connect; set address: 0.0.0.0 (or ::) to accept clients from the network`));
    }
  });
  // Keys alone say who signed a token, not for whom: an IdP's token for any other application would do.
  const bearer = c.identity?.bearer;
  if (bearer && (!bearer.issuer || !bearer.audience)) {
    warnings.push(place(['identity', 'bearer'], `no ${!bearer.issuer && !bearer.audience ? 'issuer or audience' : !bearer.issuer ? 'issuer' : 'audience'}: any token these keys signed, for any application, names a user; set issuer and audience (Exchange's URL)`));
  }
  // Auto-approval and the quarantine cap only act where new devices are judged at all.
  if (c.devices.mode === 'any' && c.devices.autoApprove > 0) {
    warnings.push(place(['devices', 'autoApprove'], 'has no effect with devices.mode: any (every device syncs already); set mode: quarantine or allow-list, or remove autoApprove'));
  }
  const policy = compilePolicy(c.policy);
  const kerberosDenied = INTEGRATED_AUTH.filter(
    (p) => negotiateOffered(c, p) && !evaluate(policy, { subject: { kind: 'kerberos' }, protocol: p, zone: 'internal', clientAddress: '0.0.0.0' }, NO_STATES).allow,
  );
  if (kerberosDenied.length > 0) {
    c.listeners.forEach((l, i) => {
      const internal = l.zone === 'internal' || l.clientZones.some((z) => z.zone === 'internal');
      if (!internal) return;
      warnings.push(
        place(
          ['listeners', i, l.zone === 'internal' ? 'zone' : 'clientZones'],
          `internal clients here are offered Negotiate (${kerberosDenied.join(', ')}), but Kerberos is denied in the internal zone (policy.kerberos: ${c.policy.kerberos}): ` +
            'domain-joined Windows clients choose Kerberos and are refused. Add internal to policy.stripNegotiate (they then use NTLM), ' +
            'or set policy.kerberos: allow-unidentified with a rule for authentication: [kerberos]',
        ),
      );
    });
  }
  return warnings;
}
