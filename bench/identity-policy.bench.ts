// Micro-benchmark: what identity + policy cost per request, measured on the gate itself.
// Run with `npm run bench:policy`. Prints µs per request for the three paths a request can take.
import pino from 'pino';
import { fileProvider } from '../src/directory/file-provider.js';
import { loadDirectoryFile } from '../src/directory/file-directory.js';
import { AccessControl } from '../src/policy/access-gate.js';
import { compilePolicy } from '../src/policy/evaluate.js';
import { policySchema } from '../src/policy/policy-schema.js';
import { AttemptLimiter } from '../src/policy/login-attempts.js';
import { UserStateStore } from '../src/policy/user-states.js';
import { configSchema } from '../src/config/schema.js';
import { parseRequestHead } from '../src/http/request-head.js';
import { DEFAULT_HEAD_LIMITS } from '../src/http/head-scan.js';
import { authenticateMessage } from '../src/doctor/ntlm-client.js';
import type { ConnectionContext } from '../src/forward/connection-context.js';

const dirLoad = loadDirectoryFile(new URL('../examples/demo/directory.yaml', import.meta.url).pathname);
if (!dirLoad.ok) throw new Error('demo directory');
const policyCfg = policySchema.parse({ rules: [{ name: 'outlook', effect: 'allow', zones: ['external'], protocols: ['mapi', 'rpc', 'ews'], groups: ['Outlook-Remote'] }] });
const config = configSchema.parse({ listeners: [{ port: 1, tls: { certificates: [{ cert: 'x', key: 'y' }] } }], upstream: { url: 'https://x' }, policy: policyCfg });
const state = { config, policy: compilePolicy(policyCfg), directory: fileProvider(dirLoad.directory), bearer: undefined };
const users = new UserStateStore(config.lockout);
const gate = new AccessControl(() => state, users, new AttemptLimiter(users), pino({ level: 'silent' }));

const head = (auth?: string) => {
  const r = parseRequestHead(Buffer.from(`POST /mapi/emsmdb/?MailboxId=x@lab.example HTTP/1.1\r\nHost: mail\r\n${auth ? `Authorization: ${auth}\r\n` : ''}Content-Length: 0\r\n\r\n`), DEFAULT_HEAD_LIMITS);
  if (r.kind !== 'head') throw new Error('head');
  return { head: r.head, protocol: 'mapi' as const, path: '/mapi/emsmdb/' };
};
const ctx = (): ConnectionContext => ({ id: 1, listener: 'x', zone: 'external', remoteAddress: '203.0.113.5', remotePort: 1, servername: undefined, openedAt: 0, identity: undefined, pending: undefined, lastProtocol: undefined, requests: 0, bytesFromClient: 0, bytesToClient: 0, current: undefined, close() {} });

async function measure(name: string, n: number, fn: () => unknown): Promise<void> {
  for (let i = 0; i < n / 10; i++) await fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  console.log(`${name.padEnd(58)} ${us.toFixed(2).padStart(7)} µs/request`);
}

const type3 = `NTLM ${authenticateMessage({ user: 'bob', domain: 'LAB', nt: Buffer.alloc(52) }).toString('base64')}`;
const basicAuth = `Basic ${Buffer.from('LAB\\bob:Passw0rd!').toString('base64')}`;
const bound = ctx();
const bobEntry = await state.directory.lookup({ domain: 'LAB', user: 'bob' });
if (bobEntry.status !== 'found') throw new Error('bob');
bound.identity = { kind: 'user', entry: bobEntry.entry, via: 'NTLM', at: 0 };
bound.lastProtocol = 'mapi';

console.log(`identity + policy per request (Node ${process.version}, demo directory, 1 rule)`);
await measure('authenticated connection, no Authorization (the common case)', 200_000, () => gate.check(bound, head()));
await measure('NTLM AUTHENTICATE: parse + directory + policy', 100_000, () => gate.check(ctx(), head(type3)));
await measure('Basic: decode + directory + policy', 100_000, () => gate.check(ctx(), head(basicAuth)));
