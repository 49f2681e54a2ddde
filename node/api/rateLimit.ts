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
  /** Buckets kept at most; the least recently created go first. Default 10,000. */
  maxBuckets?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

/**
 * The default limit per API key: generous, far above what one wallet app sends (the bench drives a
 * node at thousands of payments a second through one key), so it only stops a runaway or stolen
 * key from starving the node.
 */
export const DEFAULT_RATE_LIMIT: Readonly<RateLimit> = { ratePerSecond: 10_000, burst: 20_000 };

interface Bucket {
  tokens: number;
  at: number;
  limit: RateLimit;
}

/**
 * Rate limits per API key (token buckets). Requests without a key (`/healthz`, the signed
 * node-to-node endpoint) are limited per client address instead.
 *
 * @example
 * const limiter = new RateLimiter({ ratePerSecond: 50, burst: 100 });
 * limiter.take("key_3f1c…"); // throws a 429 problem with Retry-After once the bucket is empty
 */
export class RateLimiter {
  readonly #default: RateLimit;
  readonly #perKey: Map<string, RateLimit>;
  readonly #buckets = new Map<string, Bucket>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: RateLimiterOptions = {}) {
    this.#default = checked({ ratePerSecond: options.ratePerSecond ?? DEFAULT_RATE_LIMIT.ratePerSecond, burst: options.burst ?? DEFAULT_RATE_LIMIT.burst });
    this.#perKey = new Map(Object.entries(options.perKey ?? {}).map(([id, l]) => [id, checked({ ...this.#default, ...l })]));
    this.#max = options.maxBuckets ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Takes one token from `subject`'s bucket (an API key id, or `ip:<address>`). Throws a 429
   * `rate_limited` problem with `Retry-After` (whole seconds, at least 1) when it is empty.
   */
  take(subject: string): void {
    const wait = this.tryTake(subject);
    if (wait === 0) return;
    const seconds = Math.max(1, Math.ceil(wait / 1000));
    throw new ApiProblem("rate_limited", 429, `Too many requests for this API key; retry in ${seconds} s.`, {
      headers: { "retry-after": String(seconds) },
      details: { retryAfterSeconds: seconds },
    });
  }

  /** Takes a token if there is one; returns 0, or the ms until the next token. */
  tryTake(subject: string): number {
    const now = this.#now();
    let b = this.#buckets.get(subject);
    if (!b) {
      const limit = this.#perKey.get(subject) ?? this.#default;
      b = { tokens: limit.burst, at: now, limit };
      if (this.#buckets.size >= this.#max) this.#buckets.delete(this.#buckets.keys().next().value!);
      this.#buckets.set(subject, b);
    } else {
      b.tokens = Math.min(b.limit.burst, b.tokens + ((now - b.at) / 1000) * b.limit.ratePerSecond);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return ((1 - b.tokens) / b.limit.ratePerSecond) * 1000;
  }
}

function checked(l: RateLimit): RateLimit {
  if (!(l.ratePerSecond > 0) || !(l.burst >= 1) || !Number.isFinite(l.ratePerSecond) || !Number.isFinite(l.burst)) {
    throw new RangeError(`a rate limit needs ratePerSecond > 0 and burst >= 1 (got ${l.ratePerSecond}/s, burst ${l.burst})`);
  }
  return l;
}
