import { createHash, randomBytes } from "node:crypto";

/** Lifetime and bounds of browser sessions. */
export interface SessionLimits {
  /** A session ends this long after sign-in, whatever happens. Default 12 h. */
  absoluteMs: number;
  /** …and this long after its last request that a person made. Default 30 min. */
  idleMs: number;
  /** Sessions held at most; past it the least recently used one ends. Default 1,000. */
  maxSessions: number;
  /** Sessions of one explorer key at most; past it that key's least recently used one ends. Default 20. */
  maxPerKey: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  absoluteMs: 12 * 3600_000,
  idleMs: 30 * 60_000,
  maxSessions: 1_000,
  maxPerKey: 20,
};

interface Session {
  keyId: string;
  createdAt: number;
  lastSeen: number;
}

const TOKEN = /^hs_[A-Za-z0-9_-]{43}$/;
const digest = (token: string) => createHash("sha256").update(token).digest("base64url");

/**
 * Browser sessions after a login, held by the explorer itself: the cookie carries 256 random bits
 * and nothing else, and the explorer keeps only their SHA-256 with the key id and two times. There
 * is no signing secret on disk, so reading the data directory gives nothing to forge; sign-out
 * deletes the session, so a copied cookie dies with it; and every session ends 12 h after sign-in
 * or 30 min after the last request, whichever comes first. A restart ends every session (sign in
 * again with the key).
 *
 * Bounded: at most `maxSessions` (1,000) in a map kept in least-recently-used order, and
 * `maxPerKey` (20) per key, so one key holder signing in in a loop only ends its own sessions.
 *
 * @example
 * const sessions = new SessionStore();
 * const token = sessions.issue("xk_1");
 * sessions.check(token); // "xk_1"
 * sessions.revoke(token);
 */
export class SessionStore {
  readonly limits: SessionLimits;
  readonly #now: () => number;
  /** sha256(token) → session, least recently used first. */
  readonly #sessions = new Map<string, Session>();

  constructor(limits: Partial<SessionLimits> = {}, now: () => number = Date.now) {
    this.limits = { ...DEFAULT_SESSION_LIMITS, ...limits };
    this.#now = now;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** A new session of `keyId`; the token goes into the cookie and is not kept here. */
  issue(keyId: string): string {
    const token = `hs_${randomBytes(32).toString("base64url")}`;
    const now = this.#now();
    this.#sweep(now);
    this.#sessions.set(digest(token), { keyId, createdAt: now, lastSeen: now });
    let ofKey = 0;
    for (const s of this.#sessions.values()) if (s.keyId === keyId) ofKey++;
    for (const [id, s] of this.#sessions) {
      if (ofKey <= this.limits.maxPerKey) break;
      if (s.keyId === keyId) {
        this.#sessions.delete(id);
        ofKey--;
      }
    }
    while (this.#sessions.size > this.limits.maxSessions) this.#sessions.delete(this.#sessions.keys().next().value!);
    return token;
  }

  /**
   * The key id of a live session, or undefined (unknown, signed out, idle or too old: then it is
   * forgotten). `touch: false` (the UI's background badge refresh) does not count as activity.
   */
  check(token: string, o: { touch?: boolean } = {}): string | undefined {
    if (!TOKEN.test(token)) return undefined;
    const id = digest(token);
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    const now = this.#now();
    if (this.#expired(s, now)) {
      this.#sessions.delete(id);
      return undefined;
    }
    if (o.touch ?? true) {
      s.lastSeen = now;
      this.#sessions.delete(id);
      this.#sessions.set(id, s);
    }
    return s.keyId;
  }

  /** Ends a session; true when it was live. */
  revoke(token: string): boolean {
    return TOKEN.test(token) && this.#sessions.delete(digest(token));
  }

  /** Seconds until the session ends by its absolute limit (for the cookie's Max-Age). */
  get maxAgeSeconds(): number {
    return Math.floor(this.limits.absoluteMs / 1000);
  }

  #expired(s: Session, now: number): boolean {
    return now - s.createdAt >= this.limits.absoluteMs || now - s.lastSeen >= this.limits.idleMs;
  }

  /** Idle sessions sit at the front (least recently used first): drop them from there. */
  #sweep(now: number): void {
    for (const [id, s] of this.#sessions) {
      if (!this.#expired(s, now)) break;
      this.#sessions.delete(id);
    }
  }
}
