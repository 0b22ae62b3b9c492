import type tls from 'node:tls';
import type { Logger } from 'pino';
import { classifyRequest } from '../classify/classify.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Zone } from '../vocabulary/zones.js';
import { type Exchange, newExchange, planResponse, settleVerdicts, stripsAuthorization } from './exchange.js';
import { logExchangeEnd, logRefusal } from './exchange-log.js';
import { REFERENCE_HEADER, newReferenceId } from './reference-id.js';
import { checkForwardable } from './request-checks.js';
import { reasonPhrase } from './request-events.js';
import { statusForError } from '../http/errors.js';
import { type BodyFraming, requestFraming } from '../http/framing.js';
import { type RequestHead, parseRequestHead } from '../http/request-head.js';
import { type ResponseHead, parseResponseHead } from '../http/response-head.js';
import { HeadReader } from './head-reader.js';
import { PauseReasons } from './pause-reasons.js';
import { simpleResponse } from '../http/serialize.js';
import { BodyRelay, type ByteSink, socketSink } from './body-relay.js';
import { BufferedBody } from './response-rewrite.js';
import type { BoundIdentity, ConnectionContext, RequestInfo } from './connection-context.js';
import { type GateVerdict, type Refusal, type RequestGate, runGates } from './gate.js';
import { clientResponseHead, clientWantsClose, interimHead, upstreamRequestHead, upstreamWantsClose } from './hop-headers.js';
import { type UpstreamTarget, connectUpstream, describeUpstreamError, pcError } from './upstream-connect.js';

export interface ConnectionDeps {
  /** Read on every request, so a reload applies to connections that stay open. */
  readonly config: () => GatewayConfig;
  readonly upstream: () => UpstreamTarget;
  readonly gates: readonly RequestGate[];
  readonly log: Logger;
  readonly registry: Set<ClientConnection>;
}

let nextId = 1;

/**
 * One client connection and the one upstream connection pinned to it. The upstream socket is
 * opened for this client's first request, carries only this client's requests, and dies with it:
 * NTLM and Negotiate authenticate the TCP connection, so any sharing would hand one user's
 * Exchange session to another (HAProxy #581, Traefik #3792).
 *
 * Requests are handled one at a time: bytes a client pipelines behind a request wait until that
 * exchange is complete, so the gateway and Exchange always agree on message boundaries.
 */
export class ClientConnection implements ConnectionContext {
  readonly id = nextId++;
  readonly openedAt = Date.now();
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly servername: string | undefined;
  identity: BoundIdentity | undefined = undefined;
  pending: BoundIdentity | undefined = undefined;
  lastProtocol: RequestInfo['protocol'] | undefined = undefined;
  requests = 0;
  bytesFromClient = 0;
  bytesToClient = 0;
  current: RequestInfo | undefined;

  private upstream: tls.TLSSocket | undefined;
  private upstreamConnected = false;
  private connectTimer: NodeJS.Timeout | undefined;
  private headTimer: NodeJS.Timeout | undefined;
  private readonly requestHead = new HeadReader<RequestHead>((b, at) => parseRequestHead(b, this.deps.config().http, at));
  private readonly responseHead = new HeadReader<ResponseHead>((b, at) => parseResponseHead(b, this.deps.config().http, at));
  private exchange: Exchange | undefined;
  private queued: Buffer[] = [];
  /** A gate is deciding asynchronously: client bytes wait in `queued`. */
  private deciding = false;
  private readonly clientPauses: PauseReasons;
  private closed = false;
  private draining = false;
  private readonly log: Logger;
  private readonly clientSink: ByteSink;
  private readonly upstreamSink: ByteSink;

  constructor(
    private readonly socket: tls.TLSSocket,
    readonly listener: string,
    readonly zone: Zone,
    private readonly deps: ConnectionDeps,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    const sni = (socket as tls.TLSSocket & { servername?: string | false }).servername;
    this.servername = typeof sni === 'string' ? sni : undefined;
    this.log = deps.log.child({ conn: this.id });
    this.clientPauses = new PauseReasons(socket);
    this.clientSink = socketSink(socket, (n) => (this.bytesToClient += n));
    this.upstreamSink = { write: (b) => this.upstream!.write(b), cork: () => this.upstream!.cork(), uncork: () => this.upstream!.uncork() };
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    // Before its first request a connection gets no longer than a request head would: a client
    // that connects and stays silent must not hold one of the connection caps for minutes.
    socket.setTimeout(Math.min(deps.config().http.headersTimeout, deps.config().http.keepAliveTimeout));
    socket.on('data', (b: Buffer) => this.onClientData(b));
    socket.on('timeout', () => this.onTimeout());
    socket.on('end', () => this.onClientEnd());
    socket.on('error', (e) => this.log.debug({ err: e.message }, 'client socket error'));
    socket.on('close', () => this.teardown('client closed'));
    deps.registry.add(this);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.log.info({ reason, user: (this.identity ?? this.pending)?.entry?.key, protocol: this.current?.protocol }, 'connection closed by gateway');
    this.teardown(reason);
  }

  /** Shutting down: an idle connection closes now; one with an exchange in flight after it. */
  drain(): void {
    if (this.closed) return;
    this.draining = true;
    if (!this.exchange && !this.deciding && !this.requestHead.started) this.endGracefully();
    else if (this.exchange) this.exchange.closeAfter = true;
  }

  private onClientData(chunk: Buffer): void {
    this.bytesFromClient += chunk.length;
    if (this.blocked() || this.queued.length > 0) {
      this.queued.push(chunk);
      this.clientPauses.add('pipelined');
      return;
    }
    // Corked: a request head and the body bytes that came with it leave as one TLS record and
    // one syscall instead of one per write (the profile's largest cost was per-write TLS work).
    const up = this.upstream;
    up?.cork();
    this.consumeClient(chunk);
    up?.uncork();
  }

  /** Client bytes must wait: a gate is deciding, or the request is complete and its answer is not. */
  private blocked(): boolean {
    return this.deciding || (this.exchange !== undefined && this.exchange.requestDone);
  }

  private drainPending(): void {
    this.clientPauses.delete('pipelined', !this.closed);
    while (this.queued.length > 0 && !this.blocked() && !this.closed) this.consumeClient(this.queued.shift()!);
  }

  private consumeClient(chunk: Buffer): void {
    let buf = chunk;
    while (buf.length > 0 && !this.closed) {
      const ex = this.exchange;
      if (this.blocked()) {
        // Pipelined bytes, or bytes behind a head a gate is still deciding on: keep their order.
        this.queued.unshift(buf);
        this.clientPauses.add('pipelined');
        return;
      }
      if (!ex) {
        const r = this.requestHead.feed(buf);
        if (r.kind === 'incomplete') {
          this.headTimer ??= setTimeout(() => this.refuse({ status: 408, reason: 'headers-timeout', message: 'request head not received in time' }), this.deps.config().http.headersTimeout);
          return;
        }
        this.clearHeadTimer();
        if (r.kind === 'error') {
          this.refuse({ status: statusForError(r.error.code), reason: r.error.code, message: r.error.message });
          return;
        }
        buf = r.rest;
        if (!this.startExchange(r.head)) return;
      } else {
        const step = ex.request.push(buf);
        buf = buf.subarray(step.consumed);
        if (step.error) {
          if (ex.responseStarted) this.teardown(`malformed request body: ${step.error.message}`);
          else this.refuse({ status: statusForError(step.error.code), reason: step.error.code, message: step.error.message });
          return;
        }
        if (!step.flowing) this.pauseClientUntilUpstreamDrains();
        if (step.done) {
          ex.requestDone = true;
          this.maybeFinishExchange();
        }
      }
    }
  }

  /** Classifies a request and asks the gates; false when it was refused. */
  private startExchange(head: RequestHead): boolean {
    const cls = classifyRequest(head.method, head.target);
    if (!cls.ok) {
      this.refuse({ status: 400, reason: 'path-not-canonical', message: cls.reason });
      return false;
    }
    this.current = { method: head.method, path: cls.path, protocol: cls.protocol, startedAt: Date.now() };
    this.requests++;
    const framing = requestFraming(head);
    if ('code' in framing) {
      this.refuse({ status: statusForError(framing.code), reason: framing.code, message: framing.message });
      return false;
    }
    const cfg = this.deps.config().http;
    const unfit = checkForwardable(head, cfg.maxHeaders, cfg.forwardedHeaders);
    if (unfit) {
      this.refuse(unfit);
      return false;
    }
    const verdicts = runGates(this.deps.gates, this, { head, protocol: cls.protocol, path: cls.path });
    if (!(verdicts instanceof Promise)) return this.admit(head, framing, verdicts);
    this.deciding = true;
    this.clientPauses.add('deciding');
    verdicts.then(
      (v) => {
        this.deciding = false;
        this.clientPauses.delete('deciding', !this.closed);
        if (this.closed) return settleVerdicts(v, false);
        const up = this.upstream; // corked as in onClientData: the head and its body in one record
        up?.cork();
        if (this.admit(head, framing, v)) this.drainPending();
        up?.uncork();
      },
      (e: Error) => {
        this.deciding = false;
        this.log.error({ err: e.message }, 'gate failed');
        this.refuse({ status: 503, reason: 'gate-error', message: 'the gateway could not decide on this request' });
      },
    );
    return true;
  }

  /** Forwards an allowed request head and sets up its exchange. */
  private admit(head: RequestHead, framing: BodyFraming, verdicts: readonly GateVerdict[]): boolean {
    const denied = verdicts.find((v) => !v.allow);
    if (denied && !denied.allow) {
      settleVerdicts(verdicts, false);
      this.refuse(denied);
      return false;
    }
    const info = this.current!;
    this.lastProtocol = info.protocol;
    const cfg = this.deps.config();
    this.socket.setTimeout(cfg.upstream.idleTimeouts[info.protocol]);
    const closeAfter = this.draining || clientWantsClose(head);
    this.ensureUpstream();
    // Corked until the next tick: the head and the body bytes forwarded right after it leave as
    // one TLS record, also when a gate decided asynchronously (outside onClientData's cork).
    this.upstream!.write(upstreamRequestHead(head, framing, this.remoteAddress, cfg.http.forwardedHeaders, closeAfter, stripsAuthorization(verdicts)));
    this.exchange = newExchange(head, info, new BodyRelay(framing, this.upstreamSink), framing, verdicts, closeAfter);
    return true;
  }

  private onClientEnd(): void {
    const ex = this.exchange;
    if (ex && ex.requestDone && !ex.responseDone) {
      // Half-close after a complete request: deliver the answer, then close.
      ex.closeAfter = true;
      return;
    }
    this.teardown(ex ? 'client ended mid-request' : 'client finished');
  }

  private pauseClientUntilUpstreamDrains(): void {
    if (this.clientPauses.has('backpressure')) return;
    this.clientPauses.add('backpressure');
    this.upstream!.once('drain', () => this.clientPauses.delete('backpressure', !this.closed));
  }

  private ensureUpstream(): void {
    if (this.upstream) return;
    const up = connectUpstream(this.deps.upstream());
    this.upstream = up;
    this.connectTimer = setTimeout(
      () => up.destroy(pcError('PC_CONNECT_TIMEOUT', 'connect timeout')),
      this.deps.config().upstream.connectTimeout,
    );
    up.once('secureConnect', () => {
      this.upstreamConnected = true;
      clearTimeout(this.connectTimer);
    });
    up.on('data', (b: Buffer) => this.onUpstreamData(b));
    up.on('error', (e: NodeJS.ErrnoException) => this.upstreamFailed(e));
    up.on('close', () => this.onUpstreamClosed());
  }

  private onUpstreamData(chunk: Buffer): void {
    // Corked for the same reason as the client side: response head and body in one record.
    this.socket.cork();
    this.relayUpstream(chunk);
    this.socket.uncork();
  }

  private relayUpstream(chunk: Buffer): void {
    let buf = chunk;
    while (buf.length > 0 && !this.closed) {
      const ex = this.exchange;
      if (!ex || ex.responseDone) {
        this.teardown('upstream sent bytes outside a response');
        return;
      }
      if (!ex.response) {
        const r = this.responseHead.feed(buf);
        if (r.kind === 'incomplete') return;
        if (r.kind === 'error') {
          this.upstreamFailed(pcError('PC_BAD_RESPONSE', r.error.message));
          return;
        }
        buf = r.rest;
        const plan = planResponse(ex, r.head);
        if (plan.kind === 'bad') return this.upstreamFailed(pcError('PC_BAD_RESPONSE', plan.message));
        if (plan.kind === 'refuse') {
          this.exchange = undefined;
          return this.refuse(plan.refusal, ex);
        }
        if (plan.kind === 'interim') {
          if (ex.head.version === '1.1') this.clientSink.write(interimHead(plan.head));
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
          this.startResponse(ex, head.status, framing, () => clientResponseHead(head, framing, ex.head.version === '1.1', ex.closeAfter, extra), upstreamWantsClose(head));
        }
        if (ex.response!.done) this.responseFinished(ex);
      } else {
        const step = ex.response.push(buf);
        buf = buf.subarray(step.consumed);
        if (step.error) {
          this.teardown(`malformed response body from upstream: ${step.error.message}`);
          return;
        }
        if (!step.flowing) this.pauseUpstreamUntilClientDrains();
        if (step.done) this.responseFinished(ex);
      }
    }
  }

  private startResponse(ex: Exchange, status: number, framing: BodyFraming, head: () => Buffer, upstreamClose: boolean): void {
    const dechunk = framing.kind === 'chunked' && ex.head.version === '1.0';
    ex.closeAfter ||= upstreamClose || framing.kind === 'close' || dechunk;
    ex.status = status;
    ex.responseStarted = true;
    this.clientSink.write(head());
    ex.response = new BodyRelay(framing, this.clientSink, dechunk);
  }

  private pauseUpstreamUntilClientDrains(): void {
    const up = this.upstream!;
    if (!up.isPaused()) {
      this.socket.once('drain', () => up.resume());
      up.pause();
    }
  }

  private responseFinished(ex: Exchange): void {
    if (ex.buffered) {
      const out = ex.buffered.sink.finish(ex.buffered.head);
      ex.buffered = undefined;
      if (!out.ok) {
        this.refuse(out.refusal, ex);
        return;
      }
      const fr = { kind: 'length', length: out.body.length } as const;
      this.startResponse(ex, out.head.status, fr, () => clientResponseHead(out.head, fr, false, ex.closeAfter), upstreamWantsClose(out.head));
      this.clientSink.write(out.body);
    }
    ex.responseDone = true;
    this.maybeFinishExchange();
  }

  private maybeFinishExchange(): void {
    const ex = this.exchange;
    if (!ex || !ex.requestDone || !ex.responseDone) return;
    logExchangeEnd(this.log, this, ex, ex.status, undefined);
    this.settle(ex);
    this.exchange = undefined;
    this.current = undefined;
    if (ex.closeAfter) {
      this.endGracefully();
      return;
    }
    this.socket.setTimeout(this.deps.config().http.keepAliveTimeout);
    this.drainPending();
  }

  private onUpstreamClosed(): void {
    if (this.closed) return;
    const ex = this.exchange;
    if (ex?.response && !ex.responseDone && ex.response.endIsClean()) {
      ex.requestDone = true;
      ex.closeAfter = true;
      this.responseFinished(ex);
      return;
    }
    if (ex && !ex.responseStarted) {
      this.upstreamFailed(pcError('PC_UPSTREAM_CLOSED', 'upstream closed'));
      return;
    }
    // The pinned upstream is gone: the client must reconnect (and re-authenticate) on a new pair.
    if (ex) this.teardown('upstream closed mid-response');
    else this.endGracefully();
  }

  private upstreamFailed(err: NodeJS.ErrnoException): void {
    if (this.closed) return;
    const f = describeUpstreamError(err, this.upstreamConnected ? 'response' : 'connect');
    const ex = this.exchange;
    this.log.warn({ reason: f.reason, err: err.message, code: err.code }, f.message);
    if (ex && !ex.responseStarted) {
      logExchangeEnd(this.log, this, ex, f.status, f.reason);
      this.settle(ex);
      this.exchange = undefined;
      this.destroyUpstream();
      this.socket.write(simpleResponse(f.status, reasonPhrase(f.status), `${f.message}\n`, [{ name: 'X-Portcullis-Reason', value: f.reason }]));
      this.endGracefully();
      return;
    }
    this.teardown(f.reason);
  }

  private onTimeout(): void {
    const ex = this.exchange;
    if (!ex) {
      this.teardown(this.requestHead.started ? 'idle during request head' : 'keep-alive idle');
      return;
    }
    if (!ex.responseStarted && ex.requestDone) {
      this.upstreamFailed(pcError('PC_RESPONSE_TIMEOUT', 'response timeout'));
      return;
    }
    this.teardown(`idle time-out (${ex.info.protocol})`);
  }

  /** Answers the client ourselves and closes: nothing of this request (or its answer) reaches the other side. */
  private refuse(r: Refusal, ex: Exchange | undefined = this.exchange): void {
    if (this.closed) return;
    this.clearHeadTimer();
    const ref = r.ref ?? newReferenceId();
    logRefusal(this.log, this, ex?.info ?? this.current, { ...r, ref }, ex?.request.transferred ?? 0);
    if (ex) this.settle(ex);
    this.exchange = undefined;
    this.destroyUpstream();
    this.socket.write(r.response ?? simpleResponse(r.status, reasonPhrase(r.status), `${r.message} (reference ${ref})\n`, [{ name: 'X-Portcullis-Reason', value: r.reason }, { name: REFERENCE_HEADER, value: ref }]));
    this.endGracefully();
  }

  /** The exchange is over: its gates hear it once (a held lockout slot is released). */
  private settle(ex: Exchange): void {
    if (ex.settled) return;
    ex.settled = true;
    // Forwarded only once the upstream connection exists: bytes queued before it never left.
    settleVerdicts(ex.verdicts, this.upstreamConnected);
  }

  private endGracefully(): void {
    if (this.closed) return;
    if (this.exchange) this.settle(this.exchange);
    this.closed = true;
    this.clearHeadTimer();
    this.destroyUpstream();
    this.socket.end();
    // A client that never reads its final bytes must not hold the socket forever.
    setTimeout(() => this.socket.destroy(), 5_000).unref();
    this.deps.registry.delete(this);
  }

  private teardown(reason: string): void {
    if (this.exchange && !this.closed) this.log.debug({ reason }, 'connection torn down mid-exchange');
    if (this.exchange) this.settle(this.exchange);
    this.closed = true;
    this.clearHeadTimer();
    this.destroyUpstream();
    this.socket.destroy();
    this.deps.registry.delete(this);
  }

  private destroyUpstream(): void {
    clearTimeout(this.connectTimer);
    if (this.upstream) {
      this.upstream.removeAllListeners('data');
      this.upstream.on('error', () => {});
      this.upstream.destroy();
    }
  }

  private clearHeadTimer(): void {
    if (this.headTimer) clearTimeout(this.headTimer);
    this.headTimer = undefined;
  }
}

