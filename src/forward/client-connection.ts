import type tls from 'node:tls';
import type { Logger } from 'pino';
import type { HttpConfig, UpstreamConfig } from './forward-schema.js';
import type { CloseCause } from '../events.js';
import type { Zone } from '../vocabulary/zones.js';
import { type Exchange, forwardedHead, newExchange, settleVerdicts, stripsAuthorization } from './exchange.js';
import { BoundedBody, recordLocalAnswer } from './local-answers.js';
import { type TlsFacts, recordClosed, recordExchangeEnd, recordGateDecision, recordOpened, recordRefusal, recordRequestStarted } from './connection-record.js';
import { newReferenceId } from './reference-id.js';
import { refusalBytes, refusalResponse } from './refusals.js';
import { statusForError } from '../http/errors.js';
import type { BodyFraming } from '../http/framing.js';
import { type RequestHead, parseRequestHead } from '../http/request-head.js';
import { HeadReader } from './head-reader.js';
import { PauseReasons } from './pause-reasons.js';
import { BodyRelay, type ByteSink, socketSink } from './body-relay.js';
import type { BoundIdentity, ClaimNote, ConnectionContext, RequestInfo } from './connection-context.js';
import { type GateVerdict, type LocalAnswer, type Refusal, type RequestGate, runGates } from './gate.js';
import { clientWantsClose, upstreamRequestHead } from './hop-headers.js';
import { PinnedUpstream } from './pinned-upstream.js';
import { ResponseSide } from './response-side.js';
import { admitHead } from './request-admission.js';
import { type UpstreamTarget, describeUpstreamError, pcError } from './upstream-connect.js';
import { type RequestDetail, requestDetail } from './request-detail.js';

/** The configuration sections a connection reads. */
export interface ConnectionConfig {
  readonly http: HttpConfig;
  readonly upstream: UpstreamConfig;
}

export interface ConnectionDeps {
  /** Read on every request, so a reload applies to connections that stay open. */
  readonly config: () => ConnectionConfig;
  readonly upstream: () => UpstreamTarget;
  readonly gates: readonly RequestGate[];
  readonly log: Logger;
  readonly registry: Set<ClientConnection>;
}

let nextId = 1;

/**
 * One client connection and the one upstream connection pinned to it (pinned-upstream.ts): the
 * request side (heads, gates, body relay) and the response side (heads, rewrite, relay), with
 * every step put on the record (connection-record.ts).
 *
 * Requests are handled one at a time: bytes a client pipelines behind a request wait until that
 * exchange is complete, so the gateway and Exchange always agree on message boundaries.
 */
/** A body too large for a page the gateway answers itself: refused before or while it is read. */
function localBodyTooLarge(maxBody: number): Refusal {
  return { status: 413, reason: 'CONTENT_LENGTH_TOO_LARGE', message: `a body of more than ${maxBody} bytes for a page the gateway answers` };
}

export class ClientConnection implements ConnectionContext {
  readonly id = nextId++;
  readonly openedAt = Date.now();
  remoteAddress: string;
  readonly remotePort: number;
  readonly servername: string | undefined;
  identity: BoundIdentity | undefined = undefined;
  pending: BoundIdentity | undefined = undefined;
  lastProtocol: RequestInfo['protocol'] | undefined = undefined;
  requests = 0;
  bytesFromClient = 0;
  bytesToClient = 0;
  current: RequestInfo | undefined;
  claim: ClaimNote | undefined = undefined;
  closeCause: CloseCause | undefined = undefined;
  /** The ActiveSync device the connection's requests named (admin views). */
  device: RequestDetail['device'] = undefined;
  /** The command of the request in flight (EAS Cmd, MAPI X-RequestType; admin views). */
  command: string | undefined = undefined;

  private upstream: PinnedUpstream | undefined;
  private readonly tls: TlsFacts;
  private headTimer: NodeJS.Timeout | undefined;
  private readonly requestHead = new HeadReader<RequestHead>((b, at) => parseRequestHead(b, this.deps.config().http, at));
  private exchange: Exchange | undefined;
  private queued: Buffer[] = [];
  /** A gate is deciding asynchronously: client bytes wait in `queued`. */
  private deciding = false;
  private readonly clientPauses: PauseReasons;
  private closed = false;
  private draining = false;
  private log: Logger;
  private readonly clientSink: ByteSink;
  private readonly upstreamSink: ByteSink;
  private readonly responses: ResponseSide;

  constructor(
    private readonly socket: tls.TLSSocket,
    readonly listener: string,
    public zone: Zone,
    private readonly deps: ConnectionDeps,
    /** The client when it is not the socket's peer (a PROXY protocol header named it). */
    peer?: { readonly address: string; readonly port: number },
  ) {
    this.remoteAddress = peer?.address ?? socket.remoteAddress ?? '';
    this.remotePort = peer?.port ?? socket.remotePort ?? 0;
    const sni = (socket as tls.TLSSocket & { servername?: string | false }).servername;
    this.servername = typeof sni === 'string' ? sni : undefined;
    this.tls = { sni: this.servername, tlsVersion: socket.getProtocol?.() ?? undefined, tlsCipher: socket.getCipher?.()?.name };
    this.log = deps.log.child({ conn: this.id, client: this.remoteAddress });
    this.clientPauses = new PauseReasons(socket);
    this.clientSink = socketSink(socket, (n) => (this.bytesToClient += n));
    this.upstreamSink = { write: (b) => this.upstream!.socket.write(b), cork: () => this.upstream!.socket.cork(), uncork: () => this.upstream!.socket.uncork() };
    this.responses = new ResponseSide(
      {
        closed: () => this.closed,
        exchange: () => this.exchange,
        dropExchange: () => (this.exchange = undefined),
        refuse: (r, ex) => this.refuse(r, ex),
        upstreamFailed: (e) => this.upstreamFailed(e),
        teardown: (cause, detail) => this.teardown(cause, detail),
        complete: () => this.maybeFinishExchange(),
      },
      socket,
      this.clientSink,
      () => deps.config().http,
      () => this.upstream!.socket,
    );
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    // Before its first request a connection gets no longer than a request head would: a client
    // that connects and stays silent must not hold one of the connection caps for minutes.
    socket.setTimeout(Math.min(deps.config().http.headersTimeout, deps.config().http.keepAliveTimeout));
    socket.on('data', (b: Buffer) => this.onClientData(b));
    socket.on('timeout', () => this.onTimeout());
    socket.on('end', () => this.onClientEnd());
    socket.on('error', (e) => this.log.debug({ err: e.message }, 'client socket error'));
    socket.on('close', () => this.teardown('client-closed'));
    deps.registry.add(this);
    recordOpened(this, this.tls);
  }

  relocate(address: string, zone: Zone): void {
    this.remoteAddress = address;
    this.zone = zone;
    this.log = this.deps.log.child({ conn: this.id, client: address });
  }

  close(cause: CloseCause, detail?: string): void {
    this.teardown(cause, detail);
  }

  /** Shutting down: an idle connection closes now; one with an exchange in flight after it. */
  drain(): void {
    if (this.closed) return;
    this.draining = true;
    if (!this.exchange && !this.deciding && !this.requestHead.started) this.endGracefully('drain');
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
    const up = this.upstream?.socket;
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
          if (ex.responseStarted) this.teardown('protocol-error', `malformed request body: ${step.error.message}`);
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
    const a = admitHead(head, this.deps.config().http);
    this.claim = undefined;
    if (a.info) {
      this.current = a.info;
      const detail = requestDetail(a.info.protocol, head.target, head.headers);
      // The device judged is the one admission parsed; the views show the same one.
      this.device = a.info.device ?? this.device;
      this.command = detail?.command;
      this.requests++;
      recordRequestStarted(this, a.info);
    }
    if (!a.ok) {
      this.refuse(a.refusal);
      return false;
    }
    const { info, framing } = a;
    const verdicts = runGates(this.deps.gates, this, { head, protocol: info.protocol, path: info.path, device: info.device });
    if (!(verdicts instanceof Promise)) return this.admit(head, framing, verdicts);
    this.deciding = true;
    this.clientPauses.add('deciding');
    verdicts.then(
      (v) => {
        this.deciding = false;
        this.clientPauses.delete('deciding', !this.closed);
        if (this.closed) return settleVerdicts(v, false);
        const up = this.upstream?.socket; // corked as in onClientData: the head and its body in one record
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
    recordGateDecision(this, this.current!, this.deps.gates, verdicts);
    const denied = verdicts.find((v) => !v.allow);
    if (denied && !denied.allow) {
      settleVerdicts(verdicts, false);
      if (denied.local) return this.answerLocally(head, framing, denied.local);
      this.refuse(denied);
      return false;
    }
    const info = this.current!;
    this.lastProtocol = info.protocol;
    const cfg = this.deps.config();
    this.socket.setTimeout(cfg.upstream.idleTimeouts[info.protocol]);
    const closeAfter = this.draining || clientWantsClose(head);
    this.ensureUpstream(info.protocol);
    // Corked until the next tick: the head and the body bytes forwarded right after it leave as
    // one TLS record, also when a gate decided asynchronously (outside onClientData's cork).
    this.upstream!.socket.write(upstreamRequestHead(forwardedHead(verdicts, head), framing, this.remoteAddress, cfg.http.forwardedHeaders, closeAfter, stripsAuthorization(verdicts)));
    this.exchange = newExchange(head, info, new BodyRelay(framing, this.upstreamSink), framing, verdicts, closeAfter);
    return true;
  }

  /** The gateway answers this request itself: its body is read (bounded), nothing reaches Exchange. */
  private answerLocally(head: RequestHead, framing: BodyFraming, answer: LocalAnswer): boolean {
    if (framing.kind === 'close' || (framing.kind === 'length' && framing.length > answer.maxBody)) {
      this.refuse(localBodyTooLarge(answer.maxBody));
      return false;
    }
    const body = new BoundedBody(answer.maxBody);
    const ex = newExchange(head, this.current!, new BodyRelay(framing, body), framing, [], true);
    ex.local = { answer, body, started: false };
    this.exchange = ex;
    if (ex.requestDone) this.finishLocal(ex);
    return true;
  }

  private finishLocal(ex: Exchange): void {
    const local = ex.local!;
    local.started = true;
    if (local.body.overflow) {
      this.refuse(localBodyTooLarge(local.answer.maxBody));
      return;
    }
    this.deciding = true;
    this.clientPauses.add('deciding');
    local.answer.answer(local.body.bytes()).then(
      (r) => {
        this.deciding = false;
        if (this.closed) return;
        recordLocalAnswer(this, ex.info, r, ex.request.transferred);
        ex.settled = true;
        this.exchange = undefined;
        this.current = undefined;
        this.socket.write(r.response);
        this.endGracefully('close-requested');
      },
      (e: Error) => {
        this.deciding = false;
        this.log.error({ err: e.message }, 'local answer failed');
        this.refuse({ status: 503, reason: 'gate-error', message: 'the gateway could not answer this request' });
      },
    );
  }

  private onClientEnd(): void {
    const ex = this.exchange;
    if (ex && ex.requestDone && !ex.responseDone) {
      // Half-close after a complete request: deliver the answer, then close.
      ex.closeAfter = true;
      return;
    }
    if (ex) this.teardown('client-closed', 'client ended mid-request');
    else this.teardown('client-finished');
  }

  private pauseClientUntilUpstreamDrains(): void {
    if (this.clientPauses.has('backpressure')) return;
    this.clientPauses.add('backpressure');
    this.upstream!.socket.once('drain', () => this.clientPauses.delete('backpressure', !this.closed));
  }

  private ensureUpstream(protocol: RequestInfo['protocol']): void {
    if (this.upstream) return;
    this.upstream = new PinnedUpstream(this, this.deps.upstream(), protocol, this.deps.config().upstream.connectTimeout, {
      data: (b: Buffer) => this.responses.receive(b),
      error: (e: NodeJS.ErrnoException) => this.upstreamFailed(e),
      closed: () => this.onUpstreamClosed(),
    });
  }

  private maybeFinishExchange(): void {
    const ex = this.exchange;
    if (ex?.local && ex.requestDone && !ex.local.started) return this.finishLocal(ex);
    if (!ex || !ex.requestDone || !ex.responseDone) return;
    recordExchangeEnd(this, ex, ex.status, undefined, undefined);
    this.settle(ex);
    this.exchange = undefined;
    this.current = undefined;
    if (ex.closeAfter) {
      this.endGracefully(this.draining ? 'drain' : 'close-requested');
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
      this.responses.finished(ex);
      return;
    }
    if (ex && !ex.responseStarted) {
      this.upstreamFailed(pcError('PC_UPSTREAM_CLOSED', 'upstream closed'));
      return;
    }
    // The pinned upstream is gone: the client must reconnect (and re-authenticate) on a new pair.
    if (ex) this.teardown('upstream-closed', 'upstream closed mid-response');
    else this.endGracefully('upstream-closed');
  }

  private upstreamFailed(err: NodeJS.ErrnoException): void {
    if (this.closed) return;
    const f = describeUpstreamError(err, this.upstream?.connected ? 'response' : 'connect');
    const ex = this.exchange;
    this.upstream?.failed(f, err);
    if (ex && !ex.responseStarted) {
      const ref = newReferenceId();
      recordExchangeEnd(this, ex, f.status, f.reason, ref);
      this.settle(ex);
      this.exchange = undefined;
      this.destroyUpstream();
      this.socket.write(refusalBytes(f.status, [f.reason], f.message, ref));
      this.endGracefully('upstream-failed', f.reason);
      return;
    }
    this.teardown('upstream-failed', f.reason);
  }

  private onTimeout(): void {
    const ex = this.exchange;
    if (!ex) {
      this.teardown('idle', this.requestHead.started ? 'idle during request head' : 'keep-alive idle');
      return;
    }
    if (!ex.responseStarted && ex.requestDone) {
      this.upstreamFailed(pcError('PC_RESPONSE_TIMEOUT', 'response timeout'));
      return;
    }
    this.teardown('idle', `idle time-out (${ex.info.protocol})`);
  }

  /** Answers the client ourselves and closes: nothing of this request (or its answer) reaches the other side. */
  private refuse(r: Refusal, ex: Exchange | undefined = this.exchange): void {
    if (this.closed) return;
    this.clearHeadTimer();
    const ref = r.ref ?? newReferenceId();
    recordRefusal(this, ex?.info ?? this.current, r, ref, ex?.request.transferred ?? 0);
    if (ex) this.settle(ex);
    this.exchange = undefined;
    this.destroyUpstream();
    this.socket.write(refusalResponse(r, ref));
    this.endGracefully('refused', r.reason);
  }

  /** The exchange is over: its gates hear it once (a held lockout slot is released). */
  private settle(ex: Exchange): void {
    if (ex.settled) return;
    ex.settled = true;
    // Forwarded only once the upstream connection exists: bytes queued before it never left.
    settleVerdicts(ex.verdicts, this.upstream?.connected === true);
  }

  private endGracefully(cause: CloseCause, detail?: string): void {
    if (this.closed) return;
    this.finish(cause, detail);
    this.socket.end();
    // A client that never reads its final bytes must not hold the socket forever.
    setTimeout(() => this.socket.destroy(), 5_000).unref();
  }

  private teardown(cause: CloseCause, detail?: string): void {
    if (!this.closed) {
      if (this.exchange) this.log.debug({ cause, detail }, 'connection torn down mid-exchange');
      this.finish(cause, detail);
    }
    this.socket.destroy();
  }

  /** Closed once: the gates hear the exchange is over, the upstream goes, the record is written. */
  private finish(cause: CloseCause, detail: string | undefined): void {
    this.closeCause = cause;
    if (this.exchange) this.settle(this.exchange);
    this.closed = true;
    this.clearHeadTimer();
    const pinned = this.upstream?.connected ? this.upstream.protocol : undefined;
    this.destroyUpstream();
    this.deps.registry.delete(this);
    recordClosed(this, this.tls, cause, detail, pinned);
  }

  private destroyUpstream(): void {
    this.upstream?.destroy();
  }

  private clearHeadTimer(): void {
    if (this.headTimer) clearTimeout(this.headTimer);
    this.headTimer = undefined;
  }
}

