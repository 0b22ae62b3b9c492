import { Command } from 'commander';
import { registerConfigCommands } from './commands-config.js';
import { registerRunCommands } from './commands-run.js';
import { registerAccessCommands } from './commands-access.js';
import { registerDoctorCommand } from './commands-doctor.js';
import { debugRequested, describeFailure } from './cli-error.js';

const program = new Command()
  .name('portcullis')
  .description('Publish on-premises Exchange safely: a pinned, identity-aware HTTP/1.1 gateway')
  .version('0.1.0')
  .option('--debug', 'show the stack trace of an unexpected error (for a bug report)');
registerRunCommands(program);
registerConfigCommands(program);
registerAccessCommands(program);
registerDoctorCommand(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  // The last resort: whatever a command did not turn into its own one-line message.
  const f = describeFailure(e, debugRequested());
  console.error(f.text);
  // Whatever the command had opened (a listener, an LDAP connection) must not keep the process alive.
  process.exit(f.exitCode);
}
