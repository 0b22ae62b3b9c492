// TLS parameters of the listeners: Mozilla's "intermediate" profile by default
// (https://ssl-config.mozilla.org/guidelines/5.7.json), client renegotiation off.
import { constants } from 'node:crypto';
import tls from 'node:tls';

/**
 * TLS 1.3 suites first (OpenSSL keeps them in a separate list; naming none would keep OpenSSL's
 * defaults, naming them makes the profile explicit), then TLS 1.2: ECDHE with AES-GCM or
 * ChaCha20-Poly1305, and DHE-RSA with the same AEADs for old Windows SChannel clients (IE 11 /
 * Outlook on Windows 7 have DHE-RSA-AES-GCM but no ECDHE-RSA-GCM). No CBC, no SHA-1 MACs, no CCM8,
 * no ARIA or Camellia, no static RSA key exchange.
 */
export const INTERMEDIATE_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Key-exchange groups of the intermediate profile, in preference order. */
export const INTERMEDIATE_CURVES = 'X25519:prime256v1:secp384r1';

export interface ListenerTlsParameters {
  readonly minVersion: tls.SecureVersion;
  readonly ciphers: string;
  readonly ecdhCurve: string;
  readonly honorCipherOrder: boolean;
}

/**
 * Options every secure context of a listener gets (the default one and each SNI certificate's, so
 * the choice never depends on the name a client asks for).
 * - SSL_OP_NO_RENEGOTIATION: a TLS 1.2 client asking to renegotiate gets a no_renegotiation alert
 *   instead of a new (expensive) handshake; TLS 1.3 has no renegotiation.
 * - dhparam 'auto': the well-known ffdhe2048 group, so the DHE-RSA suites of the profile work.
 *   Bun (not a supported runtime, only measured: `bench/run.sh --runtime bun`) refuses 'auto'
 *   ("Automatic DH parameter selection is not supported"); there it is left out, which only
 *   removes the DHE-RSA suites (the ECDHE ones stay).
 */
export function secureContextOptions(t: ListenerTlsParameters): tls.SecureContextOptions {
  return {
    minVersion: t.minVersion,
    ciphers: t.ciphers,
    ecdhCurve: t.ecdhCurve,
    honorCipherOrder: t.honorCipherOrder,
    ...(process.versions.bun ? {} : { dhparam: 'auto' as const }),
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
  };
}

/** Why OpenSSL refuses a cipher string, or undefined when it accepts it (config validation). */
export function cipherListProblem(ciphers: string): string | undefined {
  try {
    tls.createSecureContext({ ciphers });
    return undefined;
  } catch (e) {
    return `OpenSSL accepts no cipher in "${ciphers}" (${(e as Error).message})`;
  }
}

/** Why OpenSSL refuses an ecdhCurve list, or undefined when it accepts it (config validation). */
export function curveListProblem(curves: string): string | undefined {
  try {
    tls.createSecureContext({ ecdhCurve: curves });
    return undefined;
  } catch (e) {
    return `OpenSSL refuses the curve list "${curves}" (${(e as Error).message})`;
  }
}
