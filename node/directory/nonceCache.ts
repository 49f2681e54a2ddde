/** Nonces remembered at most by default: two minutes of 800 signed requests a second. */
export const DEFAULT_MAX_NONCES = 100_000;

/**
 * Nonces of signed node-to-node requests seen within the freshness window, so that a captured
 * request cannot be sent again while its timestamp is still accepted.
 *
 * Bounded: at most `maxEntries`; an entry is forgotten once its request would be refused as stale
 * anyway. When the cache is full of live entries it refuses new ones (`add` returns "full") rather
 * than forget a live nonce, which would reopen a replay: only requests whose signature already
 * held are added, so filling it takes a member's key.
 */
export class NonceCache {
  /** key → expiry (ms since the epoch), in insertion order (roughly expiry order). */
  readonly #entries = new Map<string, number>();
  readonly #max: number;
  /** No purge pass before this time (see #purge). */
  #nextPurge = 0;

  constructor(maxEntries = DEFAULT_MAX_NONCES) {
    this.#max = Math.max(1, maxEntries);
  }

  /** Entries held (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /** True when `key` was added and has not expired. */
  has(key: string, now = Date.now()): boolean {
    const expires = this.#entries.get(key);
    return expires !== undefined && expires > now;
  }

  /** Remembers `key` until `expires`: "seen" when it is already there, "full" when the cache is full of live entries. */
  add(key: string, expires: number, now = Date.now()): "added" | "seen" | "full" {
    if (this.has(key, now)) return "seen";
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max && now >= this.#nextPurge) this.#purge(now);
    if (this.#entries.size >= this.#max) return "full";
    this.#entries.set(key, expires);
    return "added";
  }

  /**
   * Drops expired entries. A full pass, made only when the cache is full and, after a pass that
   * freed nothing, not again before the earliest entry expires: a full cache costs no pass per add.
   */
  #purge(now: number): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const [key, expires] of this.#entries) {
      if (expires <= now) this.#entries.delete(key);
      else if (expires < earliest) earliest = expires;
    }
    this.#nextPurge = this.#entries.size >= this.#max ? earliest : 0;
  }
}
