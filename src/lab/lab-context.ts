import type { Protocol } from '../vocabulary/protocols.js';
import type { FileDirectory } from '../directory/file-directory.js';
import type { DirectoryUser } from '../directory/file-schema.js';

export type LabScheme = 'Negotiate' | 'NTLM' | 'Basic';

export interface LabOptions {
  readonly directory: FileDirectory;
  /** Base URL Autodiscover hands out as external (the published name, usually the gateway). */
  readonly externalUrl: string;
  /** Base URL of the internal names (what Exchange would hand out inside). */
  readonly internalUrl: string;
  /** Schemes offered in 401 answers, per protocol (IIS: per virtual directory). */
  readonly auth: Partial<Record<Protocol, readonly LabScheme[]>>;
  readonly mapi: { readonly pendingPeriodMs: number; readonly notificationWaitMs: number };
  readonly eas: { readonly maxPingMs: number };
  readonly netbiosComputer: string;
  /** Time a credential check takes (Exchange asks a domain controller); 0 in most tests. */
  readonly authDelayMs?: number;
  /** Virtual directories with forms-based sign-in (lab-forms.ts); none by default, as IIS Windows auth only. */
  readonly forms?: readonly ('owa' | 'ecp')[];
}

export const DEFAULT_SCHEMES: readonly LabScheme[] = ['Negotiate', 'NTLM', 'Basic'];

export interface LabLogEntry {
  readonly at: number;
  readonly connection: number;
  readonly method: string;
  readonly path: string;
  /** Identity the lab authenticated for this request (undefined: anonymous). */
  readonly identity: string | undefined;
  /** Scheme and NTLM message type in the request's Authorization header, if any. */
  readonly authorization: string | undefined;
  /** The user named in an NTLM AUTHENTICATE or Basic header, whether or not it verified. */
  readonly claimedUser: string | undefined;
  /** Names of the cookies the request carried (what reached Exchange; never their values). */
  readonly cookies?: readonly string[];
  status: number;
}

export interface LabState {
  readonly options: LabOptions;
  readonly log: LabLogEntry[];
  /** Live mutable settings tests may change (the external URL is only known once the gateway listens). */
  externalUrl: string;
  /** Forms-based sign-in sessions: the cadata cookie's value → the signed-in user. */
  readonly formsSessions: Map<string, string>;
  /** Each forms session's canaries (cadata value → OWA's X-OWA-CANARY, ECP's msExchEcpCanary): Exchange's CSRF tokens. */
  readonly formsCanaries: Map<string, { readonly owa: string; readonly ecp: string }>;
}

export function identityOf(u: DirectoryUser): string {
  return `${u.domain.toUpperCase()}\\${u.sAMAccountName}`;
}

export function labDomain(options: LabOptions): string {
  return options.directory.data.domains.upnSuffixes[0]!;
}
