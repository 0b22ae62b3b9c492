// The AuditStore contract against a real PostgreSQL (a private cluster started here).
import { after, before } from 'node:test';
import pg from 'pg';
import { PostgresAuditStore } from '../../src/audit/postgres-store.js';
import { runAuditStoreContract } from '../contracts/audit-store.js';
import { type PgCluster, startPostgres } from '../helpers/postgres-cluster.js';

let cluster: PgCluster;
before(async () => {
  cluster = await startPostgres('template_audit');
});
after(async () => {
  await cluster.destroy();
});

let n = 0;
runAuditStoreContract('postgres', async () => {
  // A fresh database per case, as the SQLite suite gets a fresh file.
  const name = `audit_${n++}`;
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const store = new PostgresAuditStore({ url: cluster.url.replace(/\/[^/]+$/, `/${name}`) });
  return { store, exec: (sql) => store.exec(sql) };
});
