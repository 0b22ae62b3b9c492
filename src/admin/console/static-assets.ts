// The console's only scripts and styles: the vendored htmx and console.css, served from this
// folder (CSP script-src/style-src 'self'), read once at start.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type http from 'node:http';

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

const FILES: Record<string, [string, string]> = {
  'htmx.min.js': ['vendor/htmx.min.js', 'text/javascript; charset=utf-8'],
  'console.css': ['console.css', 'text/css; charset=utf-8'],
};

let assets: Map<string, Asset> | undefined;

function load(): Map<string, Asset> {
  if (assets) return assets;
  assets = new Map();
  for (const [name, [file, type]] of Object.entries(FILES)) {
    const body = readFileSync(new URL(file, import.meta.url));
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return assets;
}

/** Answers GET /console/static/<name>; false when there is no such asset. */
export function serveAsset(name: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const a = load().get(name);
  if (!a) return false;
  if (req.headers['if-none-match'] === a.etag) {
    res.writeHead(304, { ETag: a.etag });
    res.end();
    return true;
  }
  res.writeHead(200, { 'Content-Type': a.type, 'Content-Length': a.body.length, ETag: a.etag, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', 'Cross-Origin-Resource-Policy': 'same-origin' });
  res.end(a.body);
  return true;
}
