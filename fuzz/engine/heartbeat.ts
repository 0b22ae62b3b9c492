// Shared memory between the fuzzing worker and its watchdog. The worker stores each input here
// before running it and bumps a counter after; a parser stuck in a loop cannot post a message,
// but the watchdog can still see the counter stop and read the input that hung it.

const HEADER_BYTES = 8; // Int32 [0]: executions finished, [1]: length of the current input

export class Heartbeat {
  readonly buffer: SharedArrayBuffer;
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(bufferOrMaxLen: SharedArrayBuffer | number) {
    this.buffer = typeof bufferOrMaxLen === 'number' ? new SharedArrayBuffer(HEADER_BYTES + bufferOrMaxLen) : bufferOrMaxLen;
    this.header = new Int32Array(this.buffer, 0, 2);
    this.bytes = new Uint8Array(this.buffer, HEADER_BYTES);
  }

  /** Worker side: the input about to run. */
  begin(input: Uint8Array): void {
    const n = Math.min(input.length, this.bytes.length);
    this.bytes.set(n === input.length ? input : input.subarray(0, n));
    Atomics.store(this.header, 1, n);
  }

  /** Worker side: that input returned (or threw). */
  end(): void {
    Atomics.add(this.header, 0, 1);
  }

  /** Watchdog side. */
  get finished(): number {
    return Atomics.load(this.header, 0);
  }

  /** Watchdog side: a copy of the input running (or last run). */
  current(): Buffer {
    return Buffer.from(this.bytes.subarray(0, Atomics.load(this.header, 1)));
  }
}
