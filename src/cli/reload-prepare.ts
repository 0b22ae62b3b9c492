// What a reload reads, parses and validates before anything is swapped: the config file and, for a
// file directory, the directory file, packed for the gateway (src/directory/file-provider.ts).
// Runs in the reload thread (reload-worker.ts), so a big directory never holds up the event loop
// that serves connections; only plain data and transferable buffers come back.
import { loadConfig } from '../config/load.js';
import type { GatewayConfig } from '../config/schema.js';
import { formatProblem } from '../yaml/yaml-source.js';
import { loadDirectoryFile } from '../directory/file-directory.js';
import { type PackedDirectory, loadPackedDirectory, packDirectory } from '../directory/file-provider.js';

export type Prepared =
  | { readonly ok: true; readonly config: GatewayConfig; readonly directory?: PackedDirectory }
  /** `problems` as `file:line:column: path: message`, ready to log. */
  | { readonly ok: false; readonly stage: 'config' | 'directory'; readonly problems: string[] };

export function prepareReload(file: string): Prepared {
  const r = loadConfig(file);
  if (!r.ok) return { ok: false, stage: 'config', problems: r.problems.map(formatProblem) };
  const d = r.config.directory;
  if (d?.provider !== 'file') return { ok: true, config: r.config };
  const packed = loadPackedDirectory(d.file);
  if (packed) return { ok: true, config: r.config, directory: packed };
  // Invalid, or outside the fast parser's subset: the full reader says why, or packs it.
  const dir = loadDirectoryFile(d.file);
  if (!dir.ok) return { ok: false, stage: 'directory', problems: dir.problems.map(formatProblem) };
  return { ok: true, config: r.config, directory: packDirectory(dir.directory) };
}
