// What the console reads besides the Control: the running directory, configuration sections and
// audit store. The composition root (cli/runtime.ts) passes them; a caller that passes none (the
// worker pool's primary) gets a console whose Policy and Audit pages say so.
import type { AuditStore } from '../../audit/audit-store.js';
import type { DirectoryProvider } from '../../directory/provider.js';
import type { PolicyConfig } from '../../policy/policy-schema.js';

/** The configuration sections the console shows or uses (all as running, after reloads). */
export interface ConsoleConfigView {
  readonly policy: PolicyConfig;
  /** The file directory's path, when the directory is a file (search, nested group chains). */
  readonly directoryFile: string | undefined;
  /** The name clients use (the doctor's default target), e.g. mail.contoso.com:443. */
  readonly publishedName: string | undefined;
  /** A CA file the doctor should trust (the upstream's private CA, as in the demo). */
  readonly ca: string | undefined;
}

export interface ConsoleSources {
  readonly directory?: () => DirectoryProvider;
  readonly config?: () => ConsoleConfigView;
  readonly audit?: () => AuditStore | undefined;
  /** The config file the gateway was started with (shown on the Policy page). */
  readonly configFile?: string;
}
