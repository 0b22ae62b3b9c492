// The last reload as the events seam reported it (time, trigger, result, problems with
// file:line:column), for the Policy page.
import { events, on } from '../../events.js';

export interface LastReload {
  readonly at: number;
  readonly trigger: string;
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly closed: number;
}

export class ReloadStatus {
  last: LastReload | undefined;
  private readonly offs: Array<() => void>;

  constructor() {
    this.offs = [
      on(events.configReloaded, (e) => (this.last = { at: e.at, trigger: e.trigger, ok: true, problems: [], closed: e.connectionsClosed })),
      on(events.reloadRefused, (e) => (this.last = { at: e.at, trigger: e.trigger, ok: false, problems: e.problems, closed: 0 })),
    ];
  }

  stop(): void {
    for (const off of this.offs) off();
  }
}
