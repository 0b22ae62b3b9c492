// Requests the gateway answers itself instead of forwarding them (browser sign-in pages, issue
// #15): the body is collected up to a bound (a sign-in form is a few hundred bytes), never relayed
// to Exchange, and the answer is put on the record like any other request's end.
import type { ByteSink } from './body-relay.js';
import type { ConnectionContext, RequestInfo } from './connection-context.js';
import { recordRequestEnded } from './connection-record.js';
import type { LocalResult } from './gate.js';

/** A body sink that keeps at most `max` bytes and remembers that more came. */
export class BoundedBody implements ByteSink {
  private readonly parts: Buffer[] = [];
  private size = 0;
  overflow = false;

  constructor(private readonly max: number) {}

  write(chunk: Buffer): boolean {
    if (this.size + chunk.length > this.max) this.overflow = true;
    else {
      this.parts.push(Buffer.from(chunk));
      this.size += chunk.length;
    }
    return true;
  }

  cork(): void {}
  uncork(): void {}

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Puts a local answer on the record: a page is an allowed request, a failed sign-in a refusal. */
export function recordLocalAnswer(c: ConnectionContext, info: RequestInfo, r: LocalResult, requestBytes: number): void {
  recordRequestEnded(c, info, {
    status: r.status,
    reasons: r.reasons,
    refused: r.refused,
    concealed: false,
    detail: r.detail,
    ref: undefined,
    requestBytes,
    responseBytes: r.response.length,
  });
}
