// The response side of a client connection: reads Exchange's answer heads, lets the gates act on
// them (planResponse: interim answers, refusals, rewrites), and relays the body to the client with
// backpressure towards Exchange. A rewritten answer (Autodiscover) is collected, bounded, and sent
// whole through the same relay, so its bytes are counted like any other.
import type tls from 'node:tls';
import type { CloseCause } from '../events.js';
import type { BodyFraming } from '../http/framing.js';
import { type ResponseHead, parseResponseHead } from '../http/response-head.js';
import { BodyRelay, type ByteSink } from './body-relay.js';
import { type Exchange, planResponse } from './exchange.js';
import type { HttpConfig } from './forward-schema.js';
import type { Refusal } from './gate.js';
import { HeadReader } from './head-reader.js';
import { clientResponseHead, interimHead, upstreamWantsClose } from './hop-headers.js';
import { REFERENCE_HEADER, newReferenceId } from './reference-id.js';
import { BufferedBody } from './response-rewrite.js';
import { pcError } from './upstream-connect.js';

/** What the response side needs of its connection. */
export interface ResponseHost {
  closed(): boolean;
  /** The exchange in flight, if any. */
  exchange(): Exchange | undefined;
  dropExchange(): void;
  refuse(r: Refusal, ex: Exchange): void;
  upstreamFailed(err: NodeJS.ErrnoException): void;
  teardown(cause: CloseCause, detail: string): void;
  /** The answer is complete: the exchange may end. */
  complete(): void;
}

export class ResponseSide {
  private readonly head: HeadReader<ResponseHead>;

  constructor(
    private readonly host: ResponseHost,
    private readonly client: tls.TLSSocket,
    private readonly sink: ByteSink,
    http: () => HttpConfig,
    private readonly upstream: () => tls.TLSSocket,
  ) {
    this.head = new HeadReader<ResponseHead>((b, at) => parseResponseHead(b, http(), at));
  }

  /** Bytes from Exchange. */
  receive(chunk: Buffer): void {
    // Corked as on the request side: a response head and its body leave in one TLS record.
    this.client.cork();
    this.relay(chunk);
    this.client.uncork();
  }

  private relay(chunk: Buffer): void {
    let buf = chunk;
    while (buf.length > 0 && !this.host.closed()) {
      const ex = this.host.exchange();
      if (!ex || ex.responseDone) {
        this.host.teardown('protocol-error', 'upstream sent bytes outside a response');
        return;
      }
      if (!ex.response) {
        const r = this.head.feed(buf);
        if (r.kind === 'incomplete') return;
        if (r.kind === 'error') {
          this.host.upstreamFailed(pcError('PC_BAD_RESPONSE', r.error.message));
          return;
        }
        buf = r.rest;
        const plan = planResponse(ex, r.head);
        if (plan.kind === 'bad') return this.host.upstreamFailed(pcError('PC_BAD_RESPONSE', plan.message));
        if (plan.kind === 'refuse') {
          this.host.dropExchange();
          return this.host.refuse(plan.refusal, ex);
        }
        if (plan.kind === 'interim') {
          if (ex.head.version === '1.1') this.sink.write(interimHead(plan.head));
          continue;
        }
        const { head, framing } = plan;
        if (plan.kind === 'buffer') {
          // Collect (bounded) and rewrite: nothing goes to the client until the whole body is in.
          ex.buffered = { sink: new BufferedBody(plan.transform), head };
          ex.response = new BodyRelay(framing, ex.buffered.sink, true);
        } else {
          // A 401 carries a reference id, so a concealed refusal and a real wrong password look alike.
          if (head.status === 401) ex.ref = newReferenceId();
          const extra = ex.ref ? [{ name: REFERENCE_HEADER, value: ex.ref }] : [];
          this.start(ex, head.status, framing, () => clientResponseHead(head, framing, ex.head.version === '1.1', ex.closeAfter, extra), upstreamWantsClose(head));
        }
        if (ex.response!.done) this.finished(ex);
      } else {
        const step = ex.response.push(buf);
        buf = buf.subarray(step.consumed);
        if (step.error) {
          this.host.teardown('protocol-error', `malformed response body from upstream: ${step.error.message}`);
          return;
        }
        if (!step.flowing) this.pauseUpstream();
        if (step.done) this.finished(ex);
      }
    }
  }

  private start(ex: Exchange, status: number, framing: BodyFraming, head: () => Buffer, upstreamClose: boolean): void {
    const dechunk = framing.kind === 'chunked' && ex.head.version === '1.0';
    ex.closeAfter ||= upstreamClose || framing.kind === 'close' || dechunk;
    ex.status = status;
    ex.responseStarted = true;
    this.sink.write(head());
    ex.response = new BodyRelay(framing, this.sink, dechunk);
  }

  /** The client reads slower than Exchange sends: Exchange waits until the client drains. */
  private pauseUpstream(): void {
    const up = this.upstream();
    if (!up.isPaused()) {
      this.client.once('drain', () => up.resume());
      up.pause();
    }
  }

  /** Exchange's answer is complete (a rewritten one is sent now, whole). */
  finished(ex: Exchange): void {
    if (ex.buffered) {
      const out = ex.buffered.sink.finish(ex.buffered.head);
      ex.buffered = undefined;
      if (!out.ok) {
        this.host.refuse(out.refusal, ex);
        return;
      }
      const fr = { kind: 'length', length: out.body.length } as const;
      this.start(ex, out.head.status, fr, () => clientResponseHead(out.head, fr, false, ex.closeAfter), upstreamWantsClose(out.head));
      // Through the relay, so the rewritten body is counted like any other.
      ex.response!.push(out.body);
    }
    ex.responseDone = true;
    this.host.complete();
  }
}
