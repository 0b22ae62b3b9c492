// Search filters for the user and group queries. Every value that comes from a client goes
// through escapeFilter, so a user name cannot widen a search.

/** RFC 4515 escaping for values inside a search filter. */
export function escapeFilter(v: string): string {
  return v.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export type UserForm = { readonly kind: 'downlevel'; readonly domain: string; readonly sam: string } | { readonly kind: 'upn'; readonly upn: string };

/** The filter that finds the one user a claim names (AD: sAMAccountName or UPN/mail/proxy; OpenLDAP: uid or mail). */
export function userFilter(form: UserForm, ad: boolean, extra: string): string {
  const who =
    form.kind === 'upn'
      ? ad
        ? `(|(userPrincipalName=${escapeFilter(form.upn)})(mail=${escapeFilter(form.upn)})(proxyAddresses=smtp:${escapeFilter(form.upn)}))`
        : `(mail=${escapeFilter(form.upn)})`
      : ad
        ? `(sAMAccountName=${escapeFilter(form.sam)})`
        : `(uid=${escapeFilter(form.sam)})`;
  return `(&${extra}${who})`;
}
