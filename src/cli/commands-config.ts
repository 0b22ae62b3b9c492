import { z } from 'zod';
import type { Command } from 'commander';
import pc from 'picocolors';
import { loadConfig } from '../config/load.js';
import { configSchema } from '../config/schema.js';
import { formatProblem } from '../yaml/yaml-source.js';
import { loadDirectoryFile } from '../directory/file-directory.js';
import { keyFilePermissionProblems } from '../listen/key-permissions.js';
import { adminConfigWarnings } from '../admin/admin-guard.js';

/** `config check FILE` and `config schema`. */
export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('check a configuration file or print its JSON Schema');
  config
    .command('check')
    .argument('<file>', 'gateway configuration (YAML)')
    .description('report every problem in a configuration, with file:line:column')
    .action((file: string) => {
      const r = loadConfig(file);
      if (!r.ok) {
        for (const p of r.problems) console.error(formatProblem(p));
        console.error(pc.red(`${r.problems.length} problem(s) in ${file}`));
        process.exitCode = 1;
        return;
      }
      for (const w of r.warnings) console.error(pc.yellow(`warning: ${formatProblem(w)}`));
      for (const k of keyFilePermissionProblems(r.config)) console.error(pc.yellow(`warning: ${k.message}`));
      for (const w of adminConfigWarnings(r.config.admin)) console.error(pc.yellow(`warning: ${r.file}: ${w}`));
      if (r.config.directory?.provider === 'file') {
        const d = loadDirectoryFile(r.config.directory.file);
        if (!d.ok) {
          for (const p of d.problems) console.error(formatProblem(p));
          console.error(pc.red(`${d.problems.length} problem(s) in ${r.config.directory.file}`));
          process.exitCode = 1;
          return;
        }
      }
      console.log(pc.green(`${file}: ok`));
    });
  config
    .command('schema')
    .description('print the JSON Schema of the configuration (for editors)')
    .action(() => {
      console.log(JSON.stringify(z.toJSONSchema(configSchema, { io: 'input' }), null, 2));
    });
}
