// How the console answers: every HTML answer carries the strict Content-Security-Policy (no inline
// script or style anywhere), is never cached and never framed.
import type http from 'node:http';
import type { Html } from './html.js';

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer a form POST carries `Origin: null`, which the Origin check refuses.
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function sendHtml(res: http.ServerResponse, status: number, body: Html, headers: Record<string, string | string[]> = {}, csp = CSP): void {
  const text = body.text;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Security-Policy': csp,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendText(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Security-Policy': CSP, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

/** A redirect; for an htmx request the page itself moves (HX-Redirect), not the fragment. */
export function redirect(req: http.IncomingMessage, res: http.ServerResponse, to: string, headers: Record<string, string | string[]> = {}): void {
  if (req.headers['hx-request'] === 'true') {
    res.writeHead(200, { ...SECURITY_HEADERS, 'HX-Redirect': to, 'Content-Length': 0, 'Cache-Control': 'no-store', ...headers });
    res.end();
    return;
  }
  res.writeHead(303, { ...SECURITY_HEADERS, Location: to, 'Content-Length': 0, 'Cache-Control': 'no-store', ...headers });
  res.end();
}

/** An application/x-www-form-urlencoded body (what forms and htmx send), at most 64 KiB. */
export async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  let size = 0;
  const parts: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 1024) throw new Error('form too large');
    parts.push(c as Buffer);
  }
  if (type !== 'application/x-www-form-urlencoded') return new URLSearchParams();
  return new URLSearchParams(Buffer.concat(parts).toString('utf8'));
}
