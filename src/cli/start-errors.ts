// Why `serve` could not start, in one line that names the setting (file:line:column) and the fix:
// a port another process holds, a privileged port without the right to bind it, an address this
// host does not have.
import type { GatewayConfig } from '../config/schema.js';
import { problemAt, readYamlValue } from '../config/yaml-source.js';
import { CliError } from './cli-error.js';

/** file:line:column of a setting, or just the file when it cannot be placed. */
function where(file: string, at: ReadonlyArray<PropertyKey>): string {
  const r = readYamlValue(file);
  if (!r.ok) return file;
  const p = problemAt(r.positions(), at, '');
  return `${p.file}:${p.line}:${p.column}: ${p.path}`;
}

/** The setting a bind error came from: a listener, or the admin endpoint (Node leaves out port 0). */
function settingOf(config: GatewayConfig, address: string | undefined, port: number | undefined): ReadonlyArray<PropertyKey> | undefined {
  const key = port === undefined ? 'address' : 'port';
  const same = (a: string, p: number) => (port === undefined ? a === address : p === port);
  const i = config.listeners.findIndex((l) => same(l.address, l.port));
  if (i >= 0) return ['listeners', i, key];
  if (config.admin && same(config.admin.address, config.admin.port)) return ['admin', key];
  return undefined;
}

/** A CliError for a listen() failure, or undefined when `e` is something else. */
export function listenFailure(e: unknown, file?: string, config?: GatewayConfig): CliError | undefined {
  const err = e as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };
  if (err?.syscall === 'getaddrinfo' && err.hostname !== undefined) {
    // A listen address given as a name that does not resolve.
    const i = config?.listeners.findIndex((l) => l.address === err.hostname) ?? -1;
    const at: ReadonlyArray<PropertyKey> | undefined = i >= 0 ? ['listeners', i, 'address'] : config?.admin?.address === err.hostname ? ['admin', 'address'] : undefined;
    const setting = at && file ? ` (${where(file, at)})` : '';
    return new CliError(`cannot listen on ${err.hostname}${setting}: no such host name (${err.code}); give one of this host's addresses, or 0.0.0.0 (::) for all`);
  }
  if (err?.syscall !== 'listen' && err?.syscall !== 'bind') return undefined;
  const at = config ? settingOf(config, err.address, err.port) : undefined;
  const setting = at && file ? ` (${where(file, at)})` : '';
  const addr = `${err.address?.includes(':') ? `[${err.address}]` : err.address}${err.port === undefined ? '' : `:${err.port}`}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new CliError(`cannot listen on ${addr}${setting}: another process already uses this port; stop it (ss -ltnp 'sport = :${err.port}' names it) or choose another port`);
    case 'EACCES':
      return new CliError(
        `cannot listen on ${addr}${setting}: permission denied; ports below 1024 need root or the CAP_NET_BIND_SERVICE capability (setcap cap_net_bind_service=+ep on the node binary, or AmbientCapabilities= in a systemd unit)`,
      );
    case 'EADDRNOTAVAIL':
      return new CliError(`cannot listen on ${addr}${setting}: this host has no such address; use one of its addresses, or 0.0.0.0 (::) for all`);
    default:
      return new CliError(`cannot listen on ${addr}${setting}: ${err.code ?? err.message}`);
  }
}
