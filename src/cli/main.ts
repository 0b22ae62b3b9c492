import { Command } from 'commander';
import { registerConfigCommands } from './commands-config.js';
import { registerRunCommands } from './commands-run.js';
import { registerDemoCommand } from './commands-demo.js';
import { registerAccessCommands } from './commands-access.js';
import { registerDoctorCommand } from './commands-doctor.js';

const program = new Command()
  .name('portcullis')
  .description('Publish on-premises Exchange safely: a pinned, identity-aware HTTP/1.1 gateway')
  .version('0.1.0');
registerRunCommands(program);
registerDemoCommand(program);
registerConfigCommands(program);
registerAccessCommands(program);
registerDoctorCommand(program);
await program.parseAsync(process.argv);
