// The session store contract against a real PostgreSQL (a private cluster): several gateway
// instances share browser sessions through it.
import { after, before } from 'node:test';
import pg from 'pg';
import { runSessionStoreContract } from '../contracts/session-store.js';
import { PostgresSessionStore } from '../../src/signin/postgres-session-store.js';
import { type PgCluster, startPostgres } from '../helpers/postgres-cluster.js';

let cluster: PgCluster;
let n = 0;
before(async () => {
  cluster = await startPostgres('sessions');
});
after(async () => {
  await cluster?.destroy();
});

runSessionStoreContract('postgres', {
  fresh: async () => {
    const db = `sessions_${n++}`;
    const c = new pg.Client({ connectionString: cluster.url });
    await c.connect();
    await c.query(`CREATE DATABASE ${db}`);
    await c.end();
    const url = cluster.url.replace(/\/[^/]+$/, `/${db}`);
    return { store: new PostgresSessionStore({ url }), reopen: () => new PostgresSessionStore({ url }) };
  },
});
