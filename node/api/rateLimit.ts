import { ApiProblem } from "./problem.ts";

/** A token bucket's size: `ratePerSecond` tokens flow in, at most `burst` are held. */
export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions extends Partial<RateLimit> {
  /** Limits of particular API keys by key id (e.g. a batch importer allowed more). */
  perKey?: Record<string, Partial<RateLimit>>;
  /** The bucket of each client address, for requests without a valid key (open routes, failed authentication). Default: the key limit. */
  perAddress?: Partial<RateLimit>;
  /** Tokens a failed authentication takes from its address's bucket. Default {@link FAILED_AUTH_COST}. */
  failedAuthCost?: number;
  /** Key buckets kept at most; the least recently used goes first. Default 10,000. */
  maxKeyBuckets?: number;
  /** Address buckets kept at most; the least recently used goes first. Default 100,000. */
  maxAddressBuckets?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

/**
 * The default limit per API key: generous, far above what one wallet app sends (the bench drives a
 * node at thousands of payments a second through one key), so it only stops a runaway or stolen
 * key from starving the node.
 */
export const DEFAULT_RATE_LIMIT: Readonly<RateLimit> = { ratePerSecond: 10_000, burst: 20_000 };

/**
 * What one failed authentication costs its address: with the default limit, 100 failures a second
 * (after a burst of 200), while the same address's open-route calls (peers resolving payees) keep
 * the full rate as long as it does not guess keys.
 */
export const FAILED_AUTH_COST = 100;

interface Bucket {
  tokens: number;
  at: number;
  limit: RateLimit;
}

/**
 * Token buckets, one family per kind of subject. Requests with a valid API key are limited per key.
 * Requests without one (open routes like `/healthz` and the signed node-to-node endpoint, and every
 * failed authentication) are limited per client address, and the address is checked before the key
 * is: an address that spent its bucket on bad keys is refused before any key is hashed.
 *
 * Keys and addresses live in separate maps, each bounded and evicted least recently used first:
 * flooding the limiter with addresses evicts only address buckets and never refills a throttled
 * key's bucket. The key map is bounded by the key store in practice (only valid keys get a bucket).
 *
 * @example
 * const limiter = new RateLimiter({ ratePerSecond: 50, burst: 100 });
 * limiter.take("key_3f1c…"); // throws a 429 problem with Retry-After once the bucket is empty
 */
export class RateLimiter {
  readonly #default: RateLimit;
  readonly #address: RateLimit;
  readonly #perKey: Map<string, RateLimit>;
  readonly #keys: BucketMap;
  readonly #addresses: BucketMap;
  readonly #failedAuthCost: number;
  readonly #now: () => number;

  constructor(options: RateLimiterOptions = {}) {
    this.#default = checked({ ratePerSecond: options.ratePerSecond ?? DEFAULT_RATE_LIMIT.ratePerSecond, burst: options.burst ?? DEFAULT_RATE_LIMIT.burst });
    this.#address = checked({ ...this.#default, ...options.perAddress });
    this.#perKey = new Map(Object.entries(options.perKey ?? {}).map(([id, l]) => [id, checked({ ...this.#default, ...l })]));
    this.#keys = new BucketMap(options.maxKeyBuckets ?? 10_000);
    this.#addresses = new BucketMap(options.maxAddressBuckets ?? 100_000);
    this.#failedAuthCost = options.failedAuthCost ?? FAILED_AUTH_COST;
    if (!(this.#failedAuthCost >= 0)) throw new RangeError(`failedAuthCost must be >= 0 (got ${this.#failedAuthCost})`);
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Takes one token from the bucket of API key `keyId`. Throws a 429 `rate_limited` problem with
   * `Retry-After` (whole seconds, at least 1) when it is empty.
   */
  take(keyId: string): void {
    throwIfWaiting(this.tryTake(keyId), "for this API key");
  }

  /** Takes a token from key `keyId`'s bucket if there is one; returns 0, or the ms until the next token. */
  tryTake(keyId: string): number {
    return this.#keys.take(keyId, this.#now(), () => this.#perKey.get(keyId) ?? this.#default, 1);
  }

  /** Takes one token from client `address`'s bucket; 429 `rate_limited` when it is empty. */
  takeAddress(address: string): void {
    throwIfWaiting(this.#addresses.take(address, this.#now(), () => this.#address, 1), "from this address");
  }

  /**
   * Refuses (429) an address whose bucket is empty, without taking a token: the first step of
   * every request, before authentication.
   */
  checkAddress(address: string): void {
    throwIfWaiting(this.#addresses.take(address, this.#now(), () => this.#address, 0), "from this address");
  }

  /** Charges a failed authentication to `address` (down to an empty bucket, never below). */
  chargeFailedAuth(address: string): void {
    this.#addresses.drain(address, this.#now(), () => this.#address, this.#failedAuthCost);
  }

  /** How many key and address buckets are held (each map is bounded by its own maximum). */
  get size(): { keys: number; addresses: number } {
    return { keys: this.#keys.size, addresses: this.#addresses.size };
  }
}

/** Buckets by subject, at most `max`, least recently used evicted first (a Map keeps insertion order). */
class BucketMap {
  readonly #buckets = new Map<string, Bucket>();
  readonly #max: number;

  constructor(max: number) {
    if (!(max >= 1)) throw new RangeError(`a bucket map needs room for at least one bucket (got ${max})`);
    this.#max = max;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Takes `cost` tokens (0: only looks); returns 0, or the ms until `max(cost, 1)` tokens are there. */
  take(subject: string, now: number, limitOf: () => RateLimit, cost: number): number {
    const b = this.#refilled(subject, now, limitOf);
    const needed = Math.max(cost, 1);
    if (b.tokens >= needed) {
      b.tokens -= cost;
      return 0;
    }
    return ((needed - b.tokens) / b.limit.ratePerSecond) * 1000;
  }

  /** Takes up to `cost` tokens, leaving at least 0. */
  drain(subject: string, now: number, limitOf: () => RateLimit, cost: number): void {
    const b = this.#refilled(subject, now, limitOf);
    b.tokens = Math.max(0, b.tokens - cost);
  }

  #refilled(subject: string, now: number, limitOf: () => RateLimit): Bucket {
    let b = this.#buckets.get(subject);
    if (b) {
      b.tokens = Math.min(b.limit.burst, b.tokens + ((now - b.at) / 1000) * b.limit.ratePerSecond);
      b.at = now;
      // Re-inserted: the map's order is the order of last use.
      this.#buckets.delete(subject);
    } else {
      const limit = limitOf();
      b = { tokens: limit.burst, at: now, limit };
      if (this.#buckets.size >= this.#max) this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    this.#buckets.set(subject, b);
    return b;
  }
}

function throwIfWaiting(waitMs: number, whose: string): void {
  if (waitMs === 0) return;
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  throw new ApiProblem("rate_limited", 429, `Too many requests ${whose}; retry in ${seconds} s.`, {
    headers: { "retry-after": String(seconds) },
    details: { retryAfterSeconds: seconds },
  });
}

function checked(l: RateLimit): RateLimit {
  if (!(l.ratePerSecond > 0) || !(l.burst >= 1) || !Number.isFinite(l.ratePerSecond) || !Number.isFinite(l.burst)) {
    throw new RangeError(`a rate limit needs ratePerSecond > 0 and burst >= 1 (got ${l.ratePerSecond}/s, burst ${l.burst})`);
  }
  return l;
}
