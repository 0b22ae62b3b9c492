import type { Protocol } from '../../src/vocabulary/protocols.js';
import type { RewriteContext } from '../../src/autodiscover/rewrite-context.js';

/** The rewrite context the golden cases use: exch01.lab.local is published as mail.lab.example. */
export function goldenContext(zone: 'external' | 'internal', allow: readonly string[]): RewriteContext {
  return {
    zone,
    may: (p: Protocol) => allow.includes(p),
    namespaces: new Map([['exch01.lab.local', 'mail.lab.example']]),
    published: new Set(['mail.lab.example', 'autodiscover.lab.example']),
    acceptedDomains: ['lab.example'],
  };
}
