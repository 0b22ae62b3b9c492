// Certificate chains made by the openssl command line (root -> issuing CA -> leaf), as admins get
// them from a CA: for the doctor's chain scenarios (missing or expired intermediate, wrong name,
// unreachable revocation URLs). `openssl ca` is used because it can back-date a certificate.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface OpensslChain {
  readonly dir: string;
  /** PEM files. */
  readonly rootCrt: string;
  readonly intCrt: string;
  readonly leafCrt: string;
  readonly leafKey: string;
  /** The intermediate in DER (what an AIA caIssuers URL serves). */
  readonly intDer: string;
  /** leaf + intermediate, and leaf only: what a server may be configured to send. */
  readonly fullChain: string;
  readonly leafOnly: string;
}

export interface ChainOptions {
  /** Names in the leaf's subjectAltName. */
  readonly names?: readonly string[];
  /** Give the intermediate a validity window that ended yesterday. */
  readonly expiredIntermediate?: boolean;
  /** Base URL (http://host:port) for the leaf's AIA caIssuers, OCSP and CRL distribution point. */
  readonly urlBase?: string;
  readonly intermediateName?: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Minimal `openssl ca` setup for one CA in its own folder. */
function caDir(dir: string, name: string): string {
  const d = path.join(dir, name);
  mkdirSync(path.join(d, 'new'), { recursive: true });
  writeFileSync(path.join(d, 'index.txt'), '');
  writeFileSync(path.join(d, 'serial'), `${(Math.floor(Math.random() * 1e6) + 4096).toString(16).padStart(6, '0')}\n`);
  writeFileSync(
    path.join(d, 'ca.cnf'),
    `[ca]\ndefault_ca=x\n[x]\ndir=${d}\ndatabase=$dir/index.txt\nnew_certs_dir=$dir/new\nserial=$dir/serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\ncopy_extensions=none\n[p]\ncommonName=supplied\n`,
  );
  return d;
}

export function makeChain(o: ChainOptions = {}): OpensslChain {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'doctor-chain-'));
  const names = o.names ?? ['mail.lab.example', 'autodiscover.lab.example'];
  const base = o.urlBase ?? '';
  const ext = [
    '[root_ext]', 'basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash',
    '[int_ext]', 'basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid',
    '[leaf_ext]', 'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', 'authorityKeyIdentifier=keyid',
    `subjectAltName=${names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}`,
    ...(base ? [`authorityInfoAccess=caIssuers;URI:${base}/int.der,OCSP;URI:${base}/ocsp`, `crlDistributionPoints=URI:${base}/int.crl`] : []),
  ].join('\n');
  writeFileSync(path.join(dir, 'ext.cnf'), `${ext}\n`);
  const key = (n: string) => openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', n]);
  key('root.key');
  key('int.key');
  key('leaf.key');
  const root = caDir(dir, 'rootca');
  openssl(dir, ['req', '-new', '-key', 'root.key', '-subj', '/CN=Doctor Test Root CA', '-out', 'root.csr']);
  openssl(dir, ['ca', '-batch', '-config', path.join(root, 'ca.cnf'), '-selfsign', '-keyfile', 'root.key', '-in', 'root.csr', '-out', 'root.crt', '-days', '120', '-extfile', 'ext.cnf', '-extensions', 'root_ext', '-notext']);
  openssl(dir, ['req', '-new', '-key', 'int.key', '-subj', `/CN=${o.intermediateName ?? 'Doctor Test Issuing CA 1'}`, '-out', 'int.csr']);
  const validity = o.expiredIntermediate
    ? ['-startdate', stamp(-20), '-enddate', stamp(-1)]
    : ['-days', '90'];
  openssl(dir, ['ca', '-batch', '-config', path.join(root, 'ca.cnf'), '-cert', 'root.crt', '-keyfile', 'root.key', '-in', 'int.csr', '-out', 'int.crt', ...validity, '-extfile', 'ext.cnf', '-extensions', 'int_ext', '-notext']);
  const inter = caDir(dir, 'intca');
  openssl(dir, ['req', '-new', '-key', 'leaf.key', '-subj', `/CN=${names[0]}`, '-out', 'leaf.csr']);
  openssl(dir, ['ca', '-batch', '-config', path.join(inter, 'ca.cnf'), '-cert', 'int.crt', '-keyfile', 'int.key', '-in', 'leaf.csr', '-out', 'leaf.crt', '-startdate', stamp(-2), '-enddate', stamp(60), '-extfile', 'ext.cnf', '-extensions', 'leaf_ext', '-notext']);
  openssl(dir, ['x509', '-in', 'int.crt', '-outform', 'DER', '-out', 'int.der']);
  // The issuing CA's CRL, served at the leaf's CRL distribution point when a test publishes the folder.
  if (!o.expiredIntermediate) {
    openssl(dir, ['ca', '-batch', '-config', path.join(inter, 'ca.cnf'), '-gencrl', '-cert', 'int.crt', '-keyfile', 'int.key', '-crldays', '30', '-out', 'int.crl.pem']);
    openssl(dir, ['crl', '-in', 'int.crl.pem', '-outform', 'DER', '-out', 'int.crl']);
  }
  const f = (n: string) => path.join(dir, n);
  writeFileSync(f('full.pem'), readFileSync(f('leaf.crt'), 'utf8') + readFileSync(f('int.crt'), 'utf8'));
  return { dir, rootCrt: f('root.crt'), intCrt: f('int.crt'), leafCrt: f('leaf.crt'), leafKey: f('leaf.key'), intDer: f('int.der'), fullChain: f('full.pem'), leafOnly: f('leaf.crt') };
}

/** openssl ca date (UTC, YYYYMMDDHHMMSSZ) `days` from now. */
function stamp(days: number): string {
  return `${new Date(Date.now() + days * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}
