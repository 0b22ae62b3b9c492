import { statSync } from 'node:fs';
import type { ListenerConfig } from './listen-schema.js';

export interface KeyFileProblem {
  readonly listener: string;
  readonly file: string;
  /** Permission bits, octal (e.g. "644"). */
  readonly mode: string;
  readonly message: string;
}

/**
 * Listener private keys that other local users can read (or anyone but the owner and group can
 * replace): the gateway still starts, but says so at start and in `portcullis config check`.
 * Group read stays allowed (Debian's ssl-cert group: 0640 root:ssl-cert). Missing files are
 * reported by the config loader, not here; on Windows mode bits mean nothing and nothing is checked.
 */
export function keyFilePermissionProblems(config: { readonly listeners: readonly ListenerConfig[] }, platform: NodeJS.Platform = process.platform): KeyFileProblem[] {
  if (platform === 'win32') return [];
  const problems: KeyFileProblem[] = [];
  const seen = new Set<string>();
  config.listeners.forEach((l, i) => {
    const listener = l.name ?? `listener-${i}`;
    for (const c of l.tls.certificates) {
      if (seen.has(c.key)) continue;
      seen.add(c.key);
      let mode: number;
      try {
        mode = statSync(c.key).mode & 0o777;
      } catch {
        continue;
      }
      const what = [
        ...(mode & 0o004 ? ['readable by every local user'] : []),
        ...(mode & 0o022 ? [`writable by ${mode & 0o002 ? 'every local user' : 'its group'}`] : []),
      ];
      if (what.length === 0) continue;
      const octal = mode.toString(8).padStart(3, '0');
      problems.push({
        listener,
        file: c.key,
        mode: octal,
        message: `private key ${c.key} (listener ${listener}) is ${what.join(' and ')} (mode ${octal}): chmod 600 or 640`,
      });
    }
  });
  return problems;
}
