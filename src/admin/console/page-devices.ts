// The user page's ActiveSync devices card: each device the gateway recorded for the user, its
// state and who set it, with approve / block / remove for operators (CSRF-checked POSTs, actor
// `console:<login>`, like revoke). Device ids and types are the client's input: escaped by html``.
import type { DeviceRecord } from '../../state/device-store.js';
import { type Html, html } from './html.js';

const BADGE: Record<DeviceRecord['state'], string> = { approved: 'ok', quarantined: 'warn', blocked: 'bad' };

function action(user: string, d: DeviceRecord, name: 'approve' | 'block' | 'remove', label: string, confirm: string): Html {
  return html`<form class="inline" hx-post="${`/console/devices/${name}`}" hx-target="#flash" hx-swap="outerHTML" hx-confirm="${confirm}"><input type="hidden" name="user" value="${user}"><input type="hidden" name="device" value="${d.id}"><button type="submit"${name === 'block' ? html` class="danger"` : ''} data-action="${`device-${name}`}">${label}</button></form>`;
}

/** `devices` undefined: no device authority in this process' control. */
export function userDevices(user: string, devices: readonly DeviceRecord[] | undefined, operator: boolean): Html {
  if (!devices) return html`<p class="muted">Device approvals are not available here.</p>`;
  const mine = devices.filter((d) => d.user.toLowerCase() === user.toLowerCase());
  if (mine.length === 0) return html`<p class="muted">No ActiveSync device recorded.</p>`;
  const rows = mine.map(
    (d) =>
      html`<tr data-device="${d.id}"><td class="mono">${d.id}</td><td>${d.type ?? ''}</td><td><span class="${`badge ${BADGE[d.state]}`}">${d.state}</span></td><td>${new Date(d.changedAt).toISOString()}</td><td>${d.actor}</td><td>${
        operator
          ? html`${d.state !== 'approved' ? action(user, d, 'approve', 'Approve', `Let ${d.id} of ${user} sync?`) : ''}${d.state !== 'blocked' ? action(user, d, 'block', 'Block', `Block ${d.id} of ${user} and close its connections?`) : ''}${action(user, d, 'remove', 'Remove', `Forget ${d.id} of ${user}?`)}`
          : ''
      }</td></tr>`,
  );
  return html`<table><thead><tr><th>Device</th><th>Type</th><th>State</th><th>Changed</th><th>By</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}
