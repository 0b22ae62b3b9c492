import { ChunkedDecoder, CRLF, LAST_CHUNK, chunkHeader } from '../http/chunked.js';
import type { HttpError } from '../http/errors.js';
import type { BodyFraming } from '../http/framing.js';

/** Where relayed bytes go; returns false when the destination wants the source to pause. */
export interface ByteSink {
  write(chunk: Buffer): boolean;
  cork(): void;
  uncork(): void;
}

export interface RelayStep {
  /** Bytes of the input that belonged to this body; the rest starts the next message. */
  readonly consumed: number;
  readonly done: boolean;
  /** False when the sink asked for backpressure. */
  readonly flowing: boolean;
  readonly error?: HttpError;
}

/**
 * Moves one message body from source bytes to a sink without holding it: Content-Length bodies
 * are passed through slice by slice, chunked bodies are validated and re-framed (chunk extensions
 * and trailers dropped), close-delimited bodies pass until the source ends. With `dechunk`, a
 * chunked body is written raw (for HTTP/1.0 clients, who get it close-delimited).
 */
export class BodyRelay {
  private remaining: number;
  private readonly decoder: ChunkedDecoder | undefined;
  private finished: boolean;
  /** Body bytes delivered so far (payload, without chunk framing). */
  transferred = 0;

  constructor(
    readonly framing: BodyFraming,
    private readonly sink: ByteSink,
    private readonly dechunk = false,
  ) {
    this.remaining = framing.kind === 'length' ? framing.length : 0;
    this.decoder = framing.kind === 'chunked' ? new ChunkedDecoder() : undefined;
    this.finished = framing.kind === 'none';
  }

  get done(): boolean {
    return this.finished;
  }

  push(buf: Buffer): RelayStep {
    if (this.finished) return { consumed: 0, done: true, flowing: true };
    switch (this.framing.kind) {
      case 'length': {
        const n = Math.min(this.remaining, buf.length);
        const flowing = this.sink.write(n === buf.length ? buf : buf.subarray(0, n));
        this.remaining -= n;
        this.transferred += n;
        this.finished = this.remaining === 0;
        return { consumed: n, done: this.finished, flowing };
      }
      case 'close': {
        this.transferred += buf.length;
        return { consumed: buf.length, done: false, flowing: this.sink.write(buf) };
      }
      case 'chunked': {
        const out = this.decoder!.push(buf);
        let flowing = true;
        this.sink.cork();
        for (const d of out.data) {
          if (d.length === 0) continue;
          this.transferred += d.length;
          if (this.dechunk) flowing = this.sink.write(d) && flowing;
          else {
            this.sink.write(chunkHeader(d.length));
            this.sink.write(d);
            flowing = this.sink.write(CRLF) && flowing;
          }
        }
        if (out.done) {
          this.finished = true;
          if (!this.dechunk) flowing = this.sink.write(LAST_CHUNK) && flowing;
        }
        this.sink.uncork();
        return out.error
          ? { consumed: out.consumed, done: false, flowing, error: out.error }
          : { consumed: out.consumed, done: out.done, flowing };
      }
      default:
        return { consumed: 0, done: true, flowing: true };
    }
  }

  /** Whether a source that ends now ends the body cleanly (only close-delimited bodies do). */
  endIsClean(): boolean {
    return this.finished || this.framing.kind === 'close';
  }
}

/** A sink writing to a socket, with an optional byte counter. */
export function socketSink(socket: { write(b: Buffer): boolean; cork(): void; uncork(): void }, count?: (n: number) => void): ByteSink {
  return {
    write: (b) => {
      count?.(b.length);
      return socket.write(b);
    },
    cork: () => socket.cork(),
    uncork: () => socket.uncork(),
  };
}
