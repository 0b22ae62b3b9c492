/** The Exchange protocols the gateway tells apart; every decision, log line and metric uses these names. */
export const PROTOCOLS = [
  'autodiscover',
  'rpc',
  'mapi',
  'ews',
  'eas',
  'owa',
  'ecp',
  'oab',
  'powershell',
  'unknown',
] as const;

export type Protocol = (typeof PROTOCOLS)[number];
