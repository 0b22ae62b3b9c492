// `portcullis devices list|approve|block|remove`: ActiveSync devices on the running gateway,
// through its admin endpoint (like revoke). Each change reaches every worker and instance, closes
// the device's live connections it no longer allows, and goes on the record with the caller's name.
import os from 'node:os';
import type { Command } from 'commander';
import pc from 'picocolors';
import { adminRequest, adminTarget, TOKEN_ENV } from '../admin/admin-client.js';
import { isDeviceId } from '../classify/activesync-query.js';
import type { DeviceRecord } from '../state/device-store.js';
import { CliError } from './cli-error.js';

function callerName(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}

interface TargetOptions {
  readonly config?: string;
  readonly admin?: string;
}

const withTarget = (c: Command) =>
  c
    .option('-c, --config <file>', "the gateway's configuration: its admin address, and the token from admin.tokenFile")
    .option('--admin <url>', `admin endpoint of the running gateway (default: from -c, else http://127.0.0.1:9090 with the token in ${TOKEN_ENV})`);

function deviceArg(id: string): string {
  if (!isDeviceId(id)) throw new CliError(`"${id}" is not a DeviceId: 1-64 letters, digits, - or _ (portcullis devices list shows them)`);
  return id;
}

/** Control characters in what a device sent must not reach the terminal as they are. */
const safe = (s: string | undefined) => (s ?? '').replace(/[^\x20-\x7e]/g, '?');

export function registerDeviceCommands(program: Command): void {
  const devices = program.command('devices').description('ActiveSync devices: list, approve, block, remove (on the running gateway)');

  withTarget(devices.command('list').description('list the devices the gateway knows: approved, quarantined (waiting) and blocked'))
    .option('--user <user>', "only this user's devices (DOMAIN\\user or UPN)")
    .option('--json', 'JSON instead of a table')
    .action(async (o: TargetOptions & { user?: string; json?: boolean }) => {
      const target = adminTarget({ url: o.admin, config: o.config });
      const rows = (await adminRequest(target, `/api/devices${o.user ? `?user=${encodeURIComponent(o.user)}` : ''}`)) as DeviceRecord[];
      if (o.json) return void console.log(JSON.stringify(rows, null, 2));
      if (rows.length === 0) return void console.log('no devices recorded');
      const color = (s: string) => (s === 'approved' ? pc.green(s) : s === 'blocked' ? pc.red(s) : pc.yellow(s));
      const lines = rows.map((d) => [safe(d.user), safe(d.id), safe(d.type), d.state, new Date(d.changedAt).toISOString(), safe(d.actor)]);
      const head = ['USER', 'DEVICE', 'TYPE', 'STATE', 'CHANGED', 'BY'];
      const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
      const pad = (cells: string[], paint = false) => cells.map((c, i) => (paint && i === 3 ? color(c) + ' '.repeat(widths[i]! - c.length) : c.padEnd(widths[i]!))).join('  ').trimEnd();
      console.log(pad(head));
      for (const l of lines) console.log(pad(l, true));
    });

  for (const [name, state, what] of [
    ['approve', 'approved', 'let the device sync (in allow-list and quarantine mode)'],
    ['block', 'blocked', 'refuse the device in every mode and close its live connections now; the user\'s other devices keep working'],
  ] as const) {
    withTarget(devices.command(name).argument('<user>', "DOMAIN\\user or UPN, e.g. 'LAB\\dave'").argument('<device>', 'DeviceId, as devices list shows it').description(what))
      .option('--type <type>', 'DeviceType to note (a device approved before it ever connected)')
      .option('--force', 'act on the user name as given even if the directory does not know it')
      .action(async (user: string, device: string, o: TargetOptions & { type?: string; force?: boolean }) => {
        const target = adminTarget({ url: o.admin, config: o.config });
        const r = (await adminRequest(target, `/api/devices/${name}`, { user, device: deviceArg(device), actor: callerName(), ...(o.type ? { type: o.type } : {}), ...(o.force ? { force: true } : {}) })) as { device: DeviceRecord; closedConnections: number };
        const word = state === 'approved' ? pc.green('approved') : pc.red('blocked');
        console.log(`${word} ${safe(r.device.id)} of ${safe(r.device.user)}${state === 'blocked' ? `: ${r.closedConnections} open connection(s) closed` : ''}`);
      });
  }

  withTarget(devices.command('remove').argument('<user>', "DOMAIN\\user or UPN").argument('<device>', 'DeviceId').description('forget the device: it is new again (refused until approved in allow-list and quarantine mode)'))
    .action(async (user: string, device: string, o: TargetOptions) => {
      const target = adminTarget({ url: o.admin, config: o.config });
      const r = (await adminRequest(target, '/api/devices/remove', { user, device: deviceArg(device), actor: callerName() })) as { removed: DeviceRecord; closedConnections: number };
      console.log(`removed ${safe(r.removed.id)} of ${safe(r.removed.user)} (was ${r.removed.state}): ${r.closedConnections} open connection(s) closed`);
    });
}
