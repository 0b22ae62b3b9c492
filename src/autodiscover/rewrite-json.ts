import type { Protocol } from '../vocabulary/protocols.js';
import { type RewriteContext, type Rewritten, mapUrl } from './rewrite-context.js';

/** Autodiscover v2 protocol names and what they give access to. */
export const JSON_PROTOCOLS: Readonly<Record<string, Protocol>> = {
  autodiscoverv1: 'autodiscover',
  ews: 'ews',
  activesync: 'eas',
  rest: 'ews',
};

/** The answer Exchange gives for a protocol it does not offer. */
export function unavailableProtocol(name: string): string {
  return JSON.stringify({ ErrorCode: 'InvalidProtocol', ErrorMessage: `The given protocol value '${name}' is invalid. Supported values are 'AutodiscoverV1, ActiveSync, Ews'.` });
}

/** `{"Protocol": "...", "Url": "..."}` with the URL mapped to a published name. */
export function rewriteJson(text: string, ctx: RewriteContext): Rewritten {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `malformed Autodiscover JSON: ${(e as Error).message}` };
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { ok: false, error: 'Autodiscover JSON is not an object' };
  const o = doc as Record<string, unknown>;
  if (typeof o['Url'] !== 'string') return { ok: true, text };
  const mapped = mapUrl(o['Url'], ctx);
  if (mapped === undefined) return { ok: false, error: `Autodiscover JSON points to an unpublished name: ${o['Url']}` };
  return { ok: true, text: mapped === o['Url'] ? text : JSON.stringify({ ...o, Url: mapped }) };
}
