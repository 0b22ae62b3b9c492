// A tiny authoritative DNS server for the lab zone (A, AAAA, CNAME, SRV over UDP), so the demo
// and the doctor's tests have real DNS answers on loopback. Query parsing is a pure function.
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

export interface Zone {
  readonly a?: Record<string, string[]>;
  readonly aaaa?: Record<string, string[]>;
  readonly cname?: Record<string, string>;
  readonly srv?: Record<string, Array<{ priority: number; weight: number; port: number; target: string }>>;
}

const TYPE = { A: 1, CNAME: 5, AAAA: 28, SRV: 33 } as const;

export interface Question {
  readonly id: number;
  readonly name: string;
  readonly type: number;
  /** Offset just past the question (the answer copies it). */
  readonly end: number;
}

/** Parses the first question of a DNS query; undefined for anything malformed or unsupported. */
export function parseQuery(msg: Buffer): Question | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1 || (msg[2]! & 0x80) !== 0) return undefined;
  const labels: string[] = [];
  let i = 12;
  for (;;) {
    if (i >= msg.length) return undefined;
    const len = msg[i]!;
    if (len === 0) break;
    if (len > 63 || i + 1 + len > msg.length) return undefined; // no compression in queries
    labels.push(msg.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
    if (labels.length > 32) return undefined;
  }
  if (i + 5 > msg.length) return undefined;
  return { id: msg.readUInt16BE(0), name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(i + 1), end: i + 5 };
}

function encodeName(name: string): Buffer {
  return Buffer.concat([...name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
}

function rr(type: number, data: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(0xc00c, 0); // pointer to the question name
  h.writeUInt16BE(type, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt32BE(60, 6);
  h.writeUInt16BE(data.length, 10);
  return Buffer.concat([h, data]);
}

/** The answer to one query from the zone (NXDOMAIN when the name is unknown). */
export function answer(query: Buffer, q: Question, zone: Zone): Buffer {
  const answers: Buffer[] = [];
  const cname = zone.cname?.[q.name];
  if (cname && q.type !== TYPE.CNAME) answers.push(rr(TYPE.CNAME, encodeName(cname)));
  const name = cname ?? q.name;
  if (q.type === TYPE.A) for (const ip of zone.a?.[name] ?? []) answers.push(rr(TYPE.A, Buffer.from(ip.split('.').map(Number))));
  if (q.type === TYPE.AAAA) for (const ip of zone.aaaa?.[name] ?? []) answers.push(rr(TYPE.AAAA, Buffer.from(ip === '::1' ? [...Array(15).fill(0), 1] : Array(16).fill(0))));
  if (q.type === TYPE.CNAME && cname) answers.push(rr(TYPE.CNAME, encodeName(cname)));
  if (q.type === TYPE.SRV) {
    for (const s of zone.srv?.[q.name] ?? []) {
      const d = Buffer.alloc(6);
      d.writeUInt16BE(s.priority, 0);
      d.writeUInt16BE(s.weight, 2);
      d.writeUInt16BE(s.port, 4);
      answers.push(rr(TYPE.SRV, Buffer.concat([d, encodeName(s.target)])));
    }
  }
  const known = [zone.a, zone.aaaa, zone.cname, zone.srv].some((m) => m && q.name in m);
  const h = Buffer.alloc(12);
  h.writeUInt16BE(q.id, 0);
  h.writeUInt16BE(0x8400 | (known ? 0 : 3), 2); // response, authoritative, NOERROR / NXDOMAIN
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(answers.length, 6);
  return Buffer.concat([h, query.subarray(12, q.end), ...answers]);
}

export interface DnsResponder {
  readonly address: string;
  readonly port: number;
  /** Replaces the zone (tests change it between scenarios). */
  setZone(zone: Zone): void;
  stop(): Promise<void>;
}

export async function startDnsResponder(zone: Zone, port = 0, host = '127.0.0.1'): Promise<DnsResponder> {
  let current = zone;
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const q = parseQuery(msg);
    if (q) sock.send(answer(msg, q, current), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => resolve());
  });
  const a = sock.address() as AddressInfo;
  return { address: a.address, port: a.port, setZone: (z) => (current = z), stop: () => new Promise((r) => sock.close(() => r())) };
}

/** The demo zone: mail and autodiscover on loopback, SRV to the demo gateway port. */
export function labZone(gatewayPort: number): Zone {
  return {
    a: { 'mail.lab.example': ['127.0.0.1'], 'autodiscover.lab.example': ['127.0.0.1'] },
    srv: { '_autodiscover._tcp.lab.example': [{ priority: 0, weight: 0, port: gatewayPort, target: 'mail.lab.example' }] },
  };
}
