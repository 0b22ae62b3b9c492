// Sessions in this process' memory: tests and `state.store: memory` (one process; a restart signs
// everyone out, and workers do not share it).
import type { SessionStore, SigninSession } from './session-store.js';

export class MemorySessionStore implements SessionStore {
  readonly describe = 'memory';
  private readonly sessions = new Map<string, SigninSession>();

  async open(): Promise<void> {}

  async put(s: SigninSession): Promise<void> {
    this.sessions.set(s.id, { ...s });
  }

  async get(id: string): Promise<SigninSession | undefined> {
    const s = this.sessions.get(id);
    return s ? { ...s } : undefined;
  }

  async delete(id: string): Promise<boolean> {
    return this.sessions.delete(id);
  }

  async touch(id: string, at: number, exchange?: string): Promise<void> {
    const s = this.sessions.get(id);
    if (s) this.sessions.set(id, { ...s, lastSeenAt: Math.max(s.lastSeenAt, at), ...(exchange !== undefined ? { exchange } : {}) });
  }

  async addFailure(id: string): Promise<number> {
    const s = this.sessions.get(id);
    if (!s) return 0;
    this.sessions.set(id, { ...s, failures: s.failures + 1 });
    return s.failures + 1;
  }

  async deleteUser(userKey: string): Promise<SigninSession[]> {
    const out: SigninSession[] = [];
    for (const [id, s] of this.sessions) {
      if (s.userKey.toLowerCase() === userKey.toLowerCase()) {
        this.sessions.delete(id);
        out.push(s);
      }
    }
    return out;
  }

  async prune(idleBefore: number, createdBefore: number): Promise<number> {
    let n = 0;
    for (const [id, s] of this.sessions) {
      if (s.lastSeenAt < idleBefore || s.createdAt < createdBefore) {
        this.sessions.delete(id);
        n++;
      }
    }
    return n;
  }

  async close(): Promise<void> {
    this.sessions.clear();
  }
}
