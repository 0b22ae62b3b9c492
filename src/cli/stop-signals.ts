/**
 * SIGINT/SIGTERM stop the process gracefully with `stop`; a second one given on purpose (Ctrl-C
 * again, after a second or more) exits at once. Within the first second a second signal is the
 * same request delivered twice, and is ignored: started by an unsupported node, bin/portcullis.js
 * relays signals to the gateway it starts (bin/runtime.js), and systemd's default control-group
 * kill, like a terminal's Ctrl-C, also reaches that gateway directly.
 */
export function stopOnSignals(
  stop: () => Promise<void>,
  on: (signal: NodeJS.Signals, handler: () => void) => void = (s, h) => process.on(s, h),
  exit: (code: number) => void = (code) => process.exit(code),
  now: () => number = Date.now,
  say: (line: string) => void = (line) => console.error(line),
): void {
  let stoppingSince: number | undefined;
  const handler = () => {
    if (stoppingSince !== undefined) {
      if (now() - stoppingSince >= 1000) exit(1);
      return;
    }
    stoppingSince = now();
    say('\nstopping…');
    void stop().then(() => exit(0));
  };
  on('SIGINT', handler);
  on('SIGTERM', handler);
}
