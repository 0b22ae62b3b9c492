// A private PostgreSQL cluster for tests: initdb + pg_ctl in a temp folder, loopback only, on a
// free port. As root, the server runs as the `postgres` user (initdb refuses root).
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** The bin folder of the newest installed PostgreSQL, or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface PgCluster {
  readonly url: string;
  readonly port: number;
  /** pg_ctl stop -m fast: the server goes away (an outage). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
}

export async function startPostgres(database = 'audit'): Promise<PgCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql; scripts/test-interop.sh does it)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-pg-'));
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? Number((await run('id', ['-u', 'postgres'])).stdout.trim()) : undefined;
  if (user !== undefined) chownSync(dir, user, user);
  const cmd = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]) : run(path.join(bin, tool), args);
  const data = path.join(dir, 'data');
  await cmd('initdb', ['-D', data, '-A', 'trust', '-U', 'portcullis', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40`;
  const start = async () => void (await cmd('pg_ctl', ['-D', data, '-o', opts, '-l', path.join(dir, 'log'), '-w', '-t', '30', 'start']));
  const stop = async () => void (await cmd('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']));
  await start();
  const admin = new pg.Client({ connectionString: `postgres://portcullis@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  return {
    url: `postgres://portcullis@127.0.0.1:${port}/${database}`,
    port,
    stop,
    start,
    async destroy() {
      await stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
