import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { classifyRequest } from '../classify/classify.js';
import { authenticate } from './lab-auth.js';
import { cookieNames, handleForms, isHealthCheck, sendHealthCheck } from './lab-forms.js';
import { handleJson, handlePox, handleSoap } from './autodiscover.js';
import { handleEas } from './eas.js';
import { handleEws } from './ews.js';
import { type LabConnection, type LabRequest, type LabResponse, serveLabConnection } from './lab-http.js';
import type { LabLogEntry, LabOptions, LabState } from './lab-context.js';
import { handleMapi, notifyMapi } from './mapi.js';
import { handleRpc } from './rpc-proxy.js';

export interface Lab {
  readonly port: number;
  readonly url: string;
  readonly state: LabState;
  /** Connections the lab has accepted so far (for pinning checks). */
  readonly connections: Set<LabConnection>;
  notify(identity: string): number;
  stop(): Promise<void>;
}

export interface LabListen {
  readonly host: string;
  readonly port: number;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

function page(title: string): string {
  return `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1><p>Portcullis lab Exchange</p></body></html>\n`;
}

async function route(state: LabState, req: LabRequest, res: LabResponse): Promise<void> {
  const cls = classifyRequest(req.method, req.head.target);
  const entry: LabLogEntry = {
    at: Date.now(),
    connection: req.conn.id,
    method: req.method,
    path: req.path,
    identity: undefined,
    authorization: undefined,
    claimedUser: undefined,
    cookies: cookieNames(req),
    status: 0,
  };
  state.log.push(entry);
  const origEnd = res.end.bind(res);
  res.end = (d?: Buffer | string) => {
    origEnd(d);
    entry.status = res.status;
  };
  const origSend = res.send.bind(res);
  res.send = (...a: Parameters<LabResponse['send']>) => {
    origSend(...a);
    entry.status = res.status;
  };
  const protocol = cls.ok ? cls.protocol : 'unknown';
  if (protocol === 'autodiscover' && req.path.startsWith('/autodiscover/autodiscover.json')) {
    handleJson(state, req, res);
    return;
  }
  if (isHealthCheck(req.path)) {
    await req.body();
    return sendHealthCheck(res);
  }
  if (protocol === 'unknown') {
    res.send(404, 'Not Found', page('404 - File or directory not found.'), 'text/html');
    return;
  }
  // Exchange serves OWA's sign-in pages and their static resources to anyone (forms-based sign-in).
  if (protocol === 'owa' && cls.ok && (cls.path.startsWith('/owa/auth/') || cls.path === '/owa/favicon.ico')) {
    await req.body();
    return res.send(200, 'OK', page('Outlook Web App'), 'text/html; charset=utf-8');
  }
  const forms = (protocol === 'owa' || protocol === 'ecp') && cls.ok && state.options.forms?.includes(protocol) ? await handleForms(state, protocol, cls.path, req.head.target, req, res) : 'pass';
  if (forms === 'handled') return;
  const identity = forms === 'pass' ? await authenticate(state, protocol, req, res, entry) : forms.identity;
  (entry as { identity: string | undefined }).identity = identity;
  if (!identity) return;
  switch (protocol) {
    case 'autodiscover':
      if (req.path === '/autodiscover/autodiscover.xml') return handlePox(state, identity, req, res);
      if (req.path === '/autodiscover/autodiscover.svc') return handleSoap(state, req, res);
      return res.send(404, 'Not Found', page('404 - File or directory not found.'), 'text/html');
    case 'rpc':
      return handleRpc(req, res);
    case 'mapi':
      return handleMapi(state, identity, req, res);
    case 'ews':
      return handleEws(state, identity, req, res);
    case 'eas':
      return handleEas(state, identity, req, res);
    case 'oab':
      await req.body();
      return res.send(200, 'OK', '<?xml version="1.0" encoding="utf-8"?><OAB></OAB>\n', 'text/xml');
    default:
      await req.body();
      return res.send(200, 'OK', page(`${protocol.toUpperCase()} (${identity})`), 'text/html; charset=utf-8');
  }
}

/** Starts the lab Exchange on TLS. */
export async function startLab(options: LabOptions, listen: LabListen, onError: (e: Error) => void = () => {}): Promise<Lab> {
  const state: LabState = { options, log: [], externalUrl: options.externalUrl, formsSessions: new Map(), formsCanaries: new Map() };
  const connections = new Set<LabConnection>();
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ cert: listen.cert, key: listen.key, ALPNProtocols: ['http/1.1'] }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    connections.add(serveLabConnection(socket, (req, res) => route(state, req, res), onError));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    port,
    url: `https://${host}:${port}`,
    state,
    connections,
    notify: (identity) => notifyMapi(identity),
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
