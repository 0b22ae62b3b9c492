// Child of the bench: holds `n` idle TLS connections to a port, each after one answered request,
// so that more connections than one process' descriptor limit can be held across children.
// argv: port n. Reports { ready } over IPC, then waits to be killed.
import { idleConnections } from './measure.js';

const [port, n] = process.argv.slice(2).map(Number);
idleConnections(port!, n!, {}).then(
  () => process.send?.({ ready: true }),
  (e: Error) => process.send?.({ error: e.message }),
);
setInterval(() => {}, 60_000);
