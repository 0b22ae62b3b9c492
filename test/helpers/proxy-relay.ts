// A minimal layer-4 load balancer for tests: each connection accepted on loopback is relayed to the
// gateway after a PROXY header naming whichever client the test wants, so ordinary clients
// (RawClient, NTLM helpers) can be used through it.
import net from 'node:net';

export interface ProxyRelay {
  readonly port: number;
  /** The client address the next connections claim. */
  client: string;
  stop(): Promise<void>;
}

export function proxyV1(client: string, port = 40000): Buffer {
  return Buffer.from(`PROXY ${net.isIPv6(client) ? 'TCP6' : 'TCP4'} ${client} ${net.isIPv6(client) ? '::1' : '127.0.0.1'} ${port} 443\r\n`, 'latin1');
}

export async function startProxyRelay(target: number, client: string): Promise<ProxyRelay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(target, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    up.write(proxyV1(relay.client, down.remotePort));
    down.pipe(up);
    up.pipe(down);
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const relay: ProxyRelay = {
    port: (server.address() as net.AddressInfo).port,
    client,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return relay;
}
