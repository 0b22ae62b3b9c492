import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';

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
