import { channel } from 'node:diagnostics_channel';
import type { Protocol } from '../vocabulary/protocols.js';
import type { Zone } from '../vocabulary/zones.js';

/** Published once per finished or refused request; metrics and audit subscribe, the core imports neither. */
export const requestEndChannel = channel('portcullis:request:end');

export interface RequestEndEvent {
  readonly connection: number;
  readonly zone: Zone;
  readonly method: string;
  readonly path: string;
  readonly protocol: Protocol | undefined;
  readonly status: number;
  readonly reason: string | undefined;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly ms: number;
}

const PHRASES: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  408: 'Request Timeout',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export function reasonPhrase(status: number): string {
  return PHRASES[status] ?? 'Error';
}

/** Publishes one request-end event; free when nobody subscribes. */
export function publishRequestEnd(
  conn: { readonly id: number; readonly zone: Zone },
  info: { readonly method: string; readonly path: string; readonly protocol: Protocol; readonly startedAt: number } | undefined,
  status: number,
  reason: string | undefined,
  requestBytes: number,
  responseBytes: number,
): void {
  if (!requestEndChannel.hasSubscribers) return;
  const ev: RequestEndEvent = {
    connection: conn.id,
    zone: conn.zone,
    method: info?.method ?? '',
    path: info?.path ?? '',
    protocol: info?.protocol,
    status,
    reason,
    requestBytes,
    responseBytes,
    ms: info ? Date.now() - info.startedAt : 0,
  };
  requestEndChannel.publish(ev);
}
