/** Who a credential says it is, before the directory confirms it. */
export interface Claim {
  /** NetBIOS domain as sent, or '' (UPN logons carry no domain). */
  readonly domain: string;
  /** sAMAccountName, or a UPN when `domain` is empty, or a bare name. */
  readonly user: string;
}

/** The claim as a person would write it: `DOMAIN\user`, or the bare name / UPN. */
export function claimText(c: Claim): string {
  return c.domain ? `${c.domain}\\${c.user}` : c.user;
}

/**
 * How a client authenticated (the Authorization scheme, Kerberos when Negotiate carried a ticket;
 * Forms: the gateway's own browser sign-in page and the session it issued, src/signin).
 */
export const AUTH_SCHEMES = ['NTLM', 'Negotiate', 'Kerberos', 'Basic', 'Bearer', 'Forms'] as const;
export type AuthScheme = (typeof AUTH_SCHEMES)[number];
