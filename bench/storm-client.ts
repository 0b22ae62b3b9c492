// The login storm's clients, in a process of their own (forked by bench/storm.ts) so that their
// TLS handshakes do not share an event loop with the orchestrator: every login is a new TLS
// connection carrying one Basic-authenticated EWS POST, `concurrency` at a time, as Outlook
// clients reconnecting after a gateway restart. Reports wall time, latency percentiles and the
// answers' status codes.
import tls from 'node:tls';

export interface StormRequest {
  readonly port: number;
  readonly ca: string;
  readonly users: readonly string[];
  readonly password: string;
  readonly concurrency: number;
  readonly body: string;
}

export interface StormRun {
  readonly logins: number;
  readonly wallMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Status code → count; 0 counts connections that failed without an answer. */
  readonly statuses: Readonly<Record<string, number>>;
}

/** One login: connect, send, read the whole answer, close. Resolves with the status (0 on a failure). */
function login(r: StormRequest, user: string): Promise<number> {
  return new Promise((resolve) => {
    const auth = Buffer.from(`LAB\\${user}:${r.password}`).toString('base64');
    const body = Buffer.from(r.body);
    const s = tls.connect({ host: '127.0.0.1', port: r.port, ca: r.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] }, () => {
      s.write(`POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: mail.lab.example\r\nAuthorization: Basic ${auth}\r\nContent-Type: text/xml; charset=utf-8\r\nUser-Agent: storm\r\nContent-Length: ${body.length}\r\n\r\n`);
      s.write(body);
    });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      s.destroy();
      resolve(status);
    };
    s.setTimeout(60_000, () => finish(0));
    s.on('error', () => finish(0));
    s.on('close', () => finish(0));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      if (status === 100) {
        buf = buf.subarray(end + 4);
        return;
      }
      const len = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const rest = buf.length - end - 4;
      if (len ? rest >= Number(len[1]) : /\r\ntransfer-encoding:\s*chunked/i.test(head) ? buf.subarray(end).includes('\r\n0\r\n\r\n') : false) finish(status);
    });
  });
}

export async function storm(r: StormRequest): Promise<StormRun> {
  const lat: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(r.concurrency, r.users.length) }, async () => {
      while (next < r.users.length) {
        const user = r.users[next++]!;
        const a = performance.now();
        const status = await login(r, user);
        lat.push(performance.now() - a);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const wallMs = performance.now() - t0;
  lat.sort((a, b) => a - b);
  return { logins: r.users.length, wallMs, p50Ms: lat[Math.floor(lat.length * 0.5)] ?? NaN, p99Ms: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] ?? NaN, statuses };
}

// As a forked child: one storm per message.
if (process.send) {
  process.on('message', (m: StormRequest) => {
    void storm(m).then((run) => process.send!(run));
  });
  process.send({ ready: true });
}
