// A client socket is paused for several independent reasons (a gate deciding, pipelined bytes
// waiting, upstream back-pressure); it may read again only when none of them holds.
export class PauseReasons {
  private readonly reasons = new Set<string>();

  constructor(private readonly stream: { pause(): unknown; resume(): unknown }) {}

  has(reason: string): boolean {
    return this.reasons.has(reason);
  }

  add(reason: string): void {
    this.reasons.add(reason);
    this.stream.pause();
  }

  /** Drops one reason; resumes when it was the last (and `live`: the socket is still open). */
  delete(reason: string, live: boolean): void {
    this.reasons.delete(reason);
    if (this.reasons.size === 0 && live) this.stream.resume();
  }
}
