// An Outlook Anywhere virtual connection opened by hand through the gateway: the OUT channel
// (RPC_OUT_DATA, CONN/A1 -> A3) is held open, and CONN/B1 on an IN channel makes Exchange send
// CONN/C2 down it ([MS-RPCH] §3.2.3), which proves the OUT channel still carries bytes.
import { randomBytes } from 'node:crypto';
import { RawClient } from '../../src/doctor/http-probe.js';
import { RPC_TARGET } from './env.js';

// The RTS PDUs are the doctor's own (one builder for the product and the tests).
import { connA1, connB1 } from '../../src/doctor/rpc-channel.js';

export { connA1, connB1 };

export interface OutChannel {
  readonly client: RawClient;
  readonly vc: Buffer;
}

/** Opens the OUT channel and reads its 200 and CONN/A3. */
export async function openOutChannel(port: number, ca: string, authorization: string): Promise<OutChannel> {
  const client = await RawClient.connect(port, ca);
  client.write(`RPC_OUT_DATA /rpc/rpcproxy.dll?${RPC_TARGET} HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\nAccept: application/rpc\r\nContent-Length: 76\r\n\r\n`);
  const vc = randomBytes(16);
  client.write(connA1(vc));
  const head = await client.readHead(5_000);
  if (head.status !== 200) throw new Error(`RPC_OUT_DATA answered ${head.status}`);
  const a3 = await client.readExact(28, 5_000);
  if (a3[2] !== 0x14) throw new Error('no CONN/A3 on the OUT channel');
  return { client, vc };
}

/** Opens the IN channel with CONN/B1 and resolves with the CONN/C2 that arrives on the OUT channel. */
export async function completeWithInChannel(out: OutChannel, port: number, ca: string, authorization: string): Promise<{ inChannel: RawClient; c2: Buffer }> {
  const inChannel = await RawClient.connect(port, ca);
  inChannel.write(`RPC_IN_DATA /rpc/rpcproxy.dll?${RPC_TARGET} HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\nAccept: application/rpc\r\nContent-Length: 1073741824\r\n\r\n`);
  inChannel.write(connB1(out.vc));
  const c2 = await out.client.readExact(44, 5_000);
  if (c2[2] !== 0x14 || c2.readUInt16LE(18) !== 3) throw new Error('no CONN/C2 after CONN/B1');
  return { inChannel, c2 };
}
