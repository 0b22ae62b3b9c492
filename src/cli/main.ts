import { Command } from 'commander';
import { registerConfigCommands } from './commands-config.js';
import { registerRunCommands } from './commands-run.js';
import { registerDemoCommand } from './commands-demo.js';
import { registerAccessCommands } from './commands-access.js';
import { registerDeviceCommands } from './commands-devices.js';
import { registerDoctorCommand } from './commands-doctor.js';
import { VERSION } from './version.js';
import { debugRequested, describeFailure } from './cli-error.js';
import { registerAuditCommand } from './commands-audit.js';
import { registerAdminCommands } from './commands-admin.js';
import { registerSecondFactorCommands } from './commands-second-factor.js';

const program = new Command()
  .name('portcullis')
  .description('Publish on-premises Exchange safely: a pinned, identity-aware HTTP/1.1 gateway')
  .version(VERSION)
  .option('--debug', 'show the stack trace of an unexpected error (for a bug report)');
registerRunCommands(program);
registerDemoCommand(program);
registerConfigCommands(program);
registerAccessCommands(program);
registerDeviceCommands(program);
registerDoctorCommand(program);
registerAuditCommand(program);
registerAdminCommands(program);
registerSecondFactorCommands(program);

/** One line and the exit code for what ended a command; the process ends with it. */
function die(e: unknown): never {
  const f = describeFailure(e, debugRequested());
  console.error(f.text);
  // Whatever the command had opened (a listener, an LDAP connection) must not keep the process alive.
  process.exit(f.exitCode);
}

// A one-shot command's error thrown outside its promise chain (a callback, a timer) ends it the
// same way. Long-running processes (serve, lab, demo) keep Node's own report: their stack goes to
// the service log, where a bug report needs it.
const LONG_RUNNING = ['serve', 'lab', 'demo'];
if (!LONG_RUNNING.includes(process.argv.slice(2).find((a) => !a.startsWith('-')) ?? '')) {
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // The last resort: whatever a command did not turn into its own one-line message.
  die(e);
}
