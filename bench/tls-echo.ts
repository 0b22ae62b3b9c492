// The floor for P3: a bare Node.js TLS server that answers any bytes with a 1 KiB HTTP response.
// Its memory per idle connection is what one Node TLS socket costs, before any Portcullis code;
// a pinned pair holds two such sockets. argv: port cert key.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

const [port, cert, key] = process.argv.slice(2);
const answer = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n${'x'.repeat(1024)}`);
tls
  .createServer({ cert: readFileSync(cert!), key: readFileSync(key!) }, (s) => {
    s.on('data', () => s.write(answer));
    s.on('error', () => {});
  })
  .listen(Number(port), '127.0.0.1');
