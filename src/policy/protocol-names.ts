// The names admins use for Exchange's protocols, mapped to the gateway's own (classify/protocols.ts).
// An admin types what Microsoft's documentation and the Exchange admin center call a protocol:
// "ActiveSync", "Outlook Anywhere", "MAPI/HTTP"; the gateway's logs say eas, rpc, mapi. Both work
// wherever the CLI takes a protocol, and an unknown name gets the list.
import { PROTOCOLS, type Protocol } from '../classify/protocols.js';

const ALIASES: Record<Protocol, readonly string[]> = {
  autodiscover: ['autodiscover', 'autodiscover.xml', 'autodiscover.json'],
  rpc: ['rpc', 'outlook anywhere', 'outlookanywhere', 'rpc/http', 'rpc over http', 'rpch', 'oa'],
  mapi: ['mapi', 'mapi/http', 'mapi over http', 'mapihttp'],
  ews: ['ews', 'exchange web services', 'web services'],
  eas: ['eas', 'activesync', 'exchange activesync', 'microsoft server activesync', 'mobile'],
  owa: ['owa', 'outlook web app', 'outlook on the web', 'outlook web access', 'webmail'],
  ecp: ['ecp', 'eac', 'exchange control panel', 'exchange admin center', 'control panel'],
  oab: ['oab', 'offline address book'],
  powershell: ['powershell', 'remote powershell', 'rps'],
  unknown: ['unknown'],
};

/** Case, spaces, hyphens and underscores do not matter: "Outlook-Anywhere" is "outlook anywhere". */
const normal = (s: string) => s.trim().toLowerCase().replace(/[\s_-]+/g, ' ');

const BY_NAME = new Map<string, Protocol>(PROTOCOLS.flatMap((p) => ALIASES[p].map((a) => [normal(a), p] as const)));

/** The gateway's protocol for a name an admin typed, or undefined. */
export function protocolNamed(name: string): Protocol | undefined {
  return BY_NAME.get(normal(name));
}

/** For help texts and errors: `eas (activesync)`, `rpc (outlook anywhere)`, … */
export function protocolList(only: readonly Protocol[] = PROTOCOLS.filter((p) => p !== 'unknown')): string {
  return only.map((p) => (ALIASES[p][1] && p !== 'autodiscover' ? `${p} (${ALIASES[p][1]})` : p)).join(', ');
}
