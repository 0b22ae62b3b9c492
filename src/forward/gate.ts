import type { GateName } from '../events.js';
import type { Decision } from '../vocabulary/decision.js';
import type { Protocol } from '../vocabulary/protocols.js';
import type { ReasonCode } from '../vocabulary/reasons.js';
import type { Zone } from '../vocabulary/zones.js';
import type { DeviceRef } from '../vocabulary/device.js';
import type { HeaderField } from '../http/headers.js';
import type { RequestHead } from '../http/request-head.js';
import type { ResponseHead } from '../http/response-head.js';
import type { ConnectionContext } from './connection-context.js';
import type { BodyTransform } from './response-rewrite.js';

export interface GateRequest {
  readonly head: RequestHead;
  readonly protocol: Protocol;
  /** Canonical path (lower-case, decoded). */
  readonly path: string;
  /** The ActiveSync device the query named (request-admission.ts parsed it; absent elsewhere). */
  readonly device?: DeviceRef | undefined;
}

/** What the gate wants done with the final response of an allowed request. */
export type ResponseAction =
  | {
      readonly pass: true;
      readonly headers?: readonly HeaderField[];
      readonly transform?: BodyTransform;
      /** Close the connection after this answer (the gateway cannot tell who Exchange now thinks it is). */
      readonly closeAfter?: boolean;
    }
  | { readonly pass: false; readonly refusal: Refusal };

/**
 * A request the gateway answers itself (browser sign-in pages, src/signin): its body, up to
 * `maxBody` bytes, is read and never forwarded; the connection closes after the answer.
 */
export interface LocalAnswer {
  readonly maxBody: number;
  answer(body: Buffer): Promise<LocalResult>;
}

export interface LocalResult {
  /** The complete HTTP response (with Connection: close). */
  readonly response: Buffer;
  readonly status: number;
  readonly reasons: readonly ReasonCode[];
  /** A refusal for the record (a failed sign-in): recorded as a denial with its reasons. */
  readonly refused: boolean;
  /** For the record; never a password, cookie or code. */
  readonly detail?: string;
}

export interface Refusal {
  readonly status: number;
  /** The first of `reasons`: the X-Portcullis-Reason a client sees. */
  readonly reason: ReasonCode;
  /** Every reason, most important first (absent: just `reason`). */
  readonly reasons?: readonly ReasonCode[];
  /** The policy rule that refused, for the record (never sent to the client). */
  readonly rule?: string;
  /** What happened, for the log line; never sent to the client unless it is the client's own input. */
  readonly message: string;
  /** A complete response to send instead of the generic one (e.g. the MS-RPCH error form). */
  readonly response?: Buffer;
  /** The reference id the client was shown (logged with the reason, so an admin can find it). */
  readonly ref?: string;
  /** Not a refusal: the gateway answers the request itself (its body is read first). */
  readonly local?: LocalAnswer;
}

export type GateVerdict =
  | {
      readonly allow: true;
      /**
       * A refusal the client must not be able to tell from a wrong password: the request goes to
       * Exchange without its Authorization header, so the client gets Exchange's own answer to an
       * anonymous request. The reasons go to the log line of this request, never to the client.
       */
      readonly concealed?: { readonly reasons: readonly ReasonCode[]; readonly detail?: string };
      /** The decision behind an allowed request (policy reasons and rule), for the record. */
      readonly decision?: Decision;
      /** Forward without the Authorization header (a concealed refusal, or credentials an anonymous endpoint does not need). */
      readonly stripAuthorization?: boolean;
      /**
       * The request's header fields as they go to Exchange (a browser session: the gateway's cookie
       * out, Exchange's session cookies in); applied after the request was admitted as it came.
       */
      readonly requestHeaders?: (headers: readonly HeaderField[]) => HeaderField[];
      /** Called once when the exchange is over: answered, refused, failed or cut; `forwarded`: the request reached Exchange. */
      readonly onSettled?: (forwarded: boolean) => void;
      /** Sees the upstream's interim (1xx) responses of this request. */
      readonly onInterim?: (status: number) => void;
      /** Sees the final response head before the client does. */
      readonly onResponse?: (head: ResponseHead) => ResponseAction;
      /**
       * A later gate sends this request on without its credentials (as an anonymous request):
       * whatever Exchange answers proves nothing of them and counts for nobody, so this gate lets
       * go of what it holds (an attempt slot, a pending identity) and only shapes the answer.
       */
      readonly withdraw?: () => void;
    }
  | ({ readonly allow: false } & Refusal);

/**
 * Asked for every request before a byte of it reaches Exchange. Gates may answer asynchronously
 * (a directory lookup); the connection holds the client's bytes meanwhile.
 */
export interface RequestGate {
  /** Named in the gate decision event. */
  readonly name: GateName;
  /** `earlier`: the verdicts of the gates before this one (all allowing), e.g. one that strips Authorization. */
  check(ctx: ConnectionContext, req: GateRequest, earlier: readonly GateVerdict[]): GateVerdict | Promise<GateVerdict>;
}

/** Refuses protocols a zone may not reach at all (external: unknown paths, ECP, PowerShell). */
export function zoneGate(zones: () => Readonly<Record<Zone, { readonly blockedProtocols: readonly Protocol[] }>>): RequestGate {
  return {
    name: 'zone',
    check(ctx, req) {
      if (zones()[ctx.zone].blockedProtocols.includes(req.protocol)) {
        return {
          allow: false,
          status: 403,
          reason: 'protocol-blocked-in-zone',
          message: `${req.protocol} is not published to the ${ctx.zone} zone`,
        };
      }
      return { allow: true };
    },
  };
}

/** Runs gates in order; stays synchronous until a gate answers with a promise. */
export function runGates(gates: readonly RequestGate[], ctx: ConnectionContext, req: GateRequest, from = 0, acc: GateVerdict[] = []): GateVerdict[] | Promise<GateVerdict[]> {
  for (let i = from; i < gates.length; i++) {
    const v = gates[i]!.check(ctx, req, acc);
    if (v instanceof Promise) {
      return v.then((resolved) => {
        acc.push(resolved);
        return resolved.allow ? runGates(gates, ctx, req, i + 1, acc) : acc;
      });
    }
    acc.push(v);
    if (!v.allow) return acc;
  }
  return acc;
}
