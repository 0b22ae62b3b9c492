// Policy and configuration: the running rules in readable form, the zone defaults, the last
// reload (with every problem at file:line:column) and, for operators, the reload button.
import type { PolicyConfig, PolicyRule } from '../../policy/policy-schema.js';
import { type Html, html } from './html.js';
import type { LastReload } from './reload-status.js';
import type { Session } from './sessions.js';

/** One rule as a sentence: "allow members of Outlook-Remote to use mapi, rpc from external". */
export function ruleSentence(r: PolicyRule): string {
  const who = [...(r.groups?.length ? [`members of ${r.groups.join(', ')}`] : []), ...(r.users?.length ? [`users ${r.users.join(', ')}`] : [])].join(' or ') || ((r.authentication ?? ['user']).includes('unidentified') ? 'anyone' : 'every identified user');
  const auth = r.authentication && r.authentication.join() !== 'user' ? ` (authentication: ${r.authentication.join(', ')})` : '';
  const what = r.protocols?.length ? r.protocols.join(', ') : 'every protocol';
  const where = r.zones?.length ? r.zones.join(' and ') : 'every zone';
  const from = r.clientCidrs?.length ? ` when the client is in ${r.clientCidrs.join(', ')}` : '';
  return `${r.effect} ${who}${auth} to use ${what} from ${where}${from}`;
}

export function policyPage(policy: PolicyConfig | undefined, last: LastReload | undefined, configFile: string | undefined, s: Session): Html {
  const rules = policy
    ? html`<table><thead><tr><th>Rule</th><th>Effect</th><th>In words</th></tr></thead><tbody>${policy.rules.map((r) => html`<tr><td class="mono">${r.name}</td><td class="${r.effect}">${r.effect}</td><td>${ruleSentence(r)}</td></tr>`)}</tbody></table><p>Without a matching rule: external <b>${policy.defaults.external}</b>, internal <b>${policy.defaults.internal}</b>. A matching deny overrides every allow. Kerberos: ${policy.kerberos}; Negotiate stripped in: ${policy.stripNegotiate.join(', ') || 'no zone'}.</p>`
    : html`<p class="muted">The running policy is not available from this process.</p>`;
  const reload = last
    ? html`<p>${new Date(last.at).toISOString()} (${last.trigger}): ${last.ok ? html`<span class="badge ok">applied</span> ${last.closed} connection(s) closed` : html`<span class="badge bad">refused</span>, the running configuration stays`}</p>${last.problems.length ? html`<ul class="mono">${last.problems.map((p) => html`<li>${p}</li>`)}</ul>` : ''}`
    : html`<p class="muted">No reload since the start.</p>`;
  const button = s.role === 'operator' ? html`<form class="inline" hx-post="/console/policy/reload" hx-target="#flash" hx-swap="outerHTML" hx-confirm="Reload the configuration and directory now?"><button type="submit" data-action="reload">Reload now</button></form>` : '';
  return html`<h1>Policy and configuration</h1><div class="card"><h2>Rules</h2>${rules}</div><div class="card"><h2>Last reload</h2>${configFile ? html`<p class="muted">Configuration file <code>${configFile}</code></p>` : ''}${reload}${button}</div>`;
}
