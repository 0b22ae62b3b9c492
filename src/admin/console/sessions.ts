// Console sessions, in memory: a random id in an HttpOnly, SameSite=Strict cookie, a CSRF token
// per session, an idle and an absolute time-out. A restart signs everyone out, which is what an
// admin console should do anyway.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConsoleRole } from '../admin-schema.js';

export interface Session {
  readonly id: string;
  readonly login: string;
  readonly role: ConsoleRole;
  /** `local` account or `directory` member. */
  readonly source: 'local' | 'directory';
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
}

export const COOKIE = 'portcullis_console';

export interface SessionLimits {
  readonly idleMs: number;
  readonly absoluteMs: number;
}

export class SessionStore {
  private readonly byId = new Map<string, Session>();

  constructor(
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  create(login: string, role: ConsoleRole, source: Session['source']): Session {
    this.sweep();
    const t = this.now();
    const s: Session = { id: randomBytes(32).toString('base64url'), login, role, source, csrf: randomBytes(24).toString('base64url'), createdAt: t, lastSeen: t };
    this.byId.set(s.id, s);
    return s;
  }

  /** The live session for a cookie value, touched; undefined when unknown or timed out. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.byId.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (t - s.lastSeen > this.limits.idleMs || t - s.createdAt > this.limits.absoluteMs) {
      this.byId.delete(id);
      return undefined;
    }
    s.lastSeen = t;
    return s;
  }

  destroy(id: string): void {
    this.byId.delete(id);
  }

  get size(): number {
    return this.byId.size;
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, s] of this.byId) if (t - s.lastSeen > this.limits.idleMs || t - s.createdAt > this.limits.absoluteMs) this.byId.delete(id);
  }
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(session: Session, presented: string | undefined): boolean {
  const d = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(d(presented ?? ''), d(session.csrf)) && presented !== undefined && presented !== '';
}

/** The value of one cookie from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for the session (or, without an id, the one that clears it). */
export function sessionCookie(id: string | undefined, secure: boolean): string {
  const attrs = ['Path=/console/', 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])];
  return id ? [`${COOKIE}=${id}`, ...attrs].join('; ') : [`${COOKIE}=`, 'Max-Age=0', ...attrs].join('; ');
}
