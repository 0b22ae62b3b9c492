import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import type { GatewayConfig } from '../config/schema.js';

/**
 * Calls `onChange` (debounced 150 ms) when any of `files` changes. Watches their folders, not the
 * files: editors save by writing a new file and renaming it over the old one, which a watch on
 * the file itself would lose after the first save.
 */
export function watchFiles(files: readonly string[], onChange: () => void, debounceMs = 150): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set(files.map((f) => path.dirname(f)))) {
    const names = new Set(files.filter((f) => path.dirname(f) === dir).map((f) => path.basename(f)));
    watchers.push(watch(dir, (_e, name) => name && names.has(name.toString()) && schedule()));
  }
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

/** The files a configuration reads: itself, a file directory, and every listener certificate and key. */
export function configFiles(file: string, config: GatewayConfig): string[] {
  const tls = config.listeners.flatMap((l) => l.tls.certificates.flatMap((c) => [c.cert, c.key]));
  return [...new Set([file, ...(config.directory?.provider === 'file' ? [config.directory.file] : []), ...tls])];
}

/**
 * Watches the files of the configuration in force, so a renewed certificate (certbot, an ACME
 * client or an admin replacing the files) reloads like an edited config. `refresh` after a reload
 * takes the list again: the new configuration may name other certificate files.
 */
export function watchConfigFiles(file: string, current: () => GatewayConfig, onChange: () => void): { close(): void; refresh(): void } {
  let files = configFiles(file, current());
  let w = watchFiles(files, onChange);
  return {
    refresh() {
      const now = configFiles(file, current());
      if (now.join('\0') === files.join('\0')) return;
      files = now;
      w.close();
      w = watchFiles(files, onChange);
    },
    close: () => w.close(),
  };
}
