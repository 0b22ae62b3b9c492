import type { HeaderField } from './headers.js';

/** Serialises a head; names and values are written byte-exact (latin1), as they were received. */
export function serializeHead(startLine: string, headers: readonly HeaderField[]): Buffer {
  let s = startLine + '\r\n';
  for (const h of headers) s += h.name + ': ' + h.value + '\r\n';
  s += '\r\n';
  return Buffer.from(s, 'latin1');
}

/** A complete small response the gateway (or lab) writes itself. */
export function simpleResponse(
  status: number,
  reason: string,
  body: string,
  extra: readonly HeaderField[] = [],
  close = true,
  version = '1.1',
): Buffer {
  const bodyBuf = Buffer.from(body, 'utf8');
  const headers: HeaderField[] = [
    ...extra,
    { name: 'Content-Type', value: 'text/plain; charset=utf-8' },
    { name: 'Content-Length', value: String(bodyBuf.length) },
  ];
  if (close) headers.push({ name: 'Connection', value: 'close' });
  return Buffer.concat([serializeHead(`HTTP/${version} ${status} ${reason}`, headers), bodyBuf]);
}
