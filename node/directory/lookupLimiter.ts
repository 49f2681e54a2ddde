/** A token bucket's size: `ratePerSecond` tokens flow in, at most `burst` are held. */
export interface LookupRate {
  ratePerSecond: number;
  burst: number;
}

/** Options of {@link LookupLimiter}. */
export interface LookupLimiterOptions {
  /** Per calling operator (all its customers together). Default 200/s, burst 2,000. */
  perOperator?: LookupRate;
  /** Per payer pseudonym of a calling operator. Default 5/s, burst 50. */
  perPayer?: LookupRate;
  /** Tokens a lookup of a handle no open account has costs (a hit costs 1). Default 10. */
  missCost?: number;
  /** Buckets kept per kind; the least recently used go first. Default 10,000. */
  maxBuckets?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** The answer to {@link LookupLimiter.admit}: go ahead (then {@link LookupLimiter.charge}), or wait. */
export type Admission = { ok: true; keys: readonly string[] } | { ok: false; retryAfterMs: number };

/**
 * Rate limits directory lookups per calling operator and per payer pseudonym (token buckets), in
 * which a lookup of an unknown handle costs `missCost` tokens and a known one costs 1: whoever
 * probes for handles that do not exist runs dry long before a wallet app resolving its customers'
 * real payees.
 *
 * A lookup is admitted before the handle is looked up (so the refusal of one lookup never depends on
 * that lookup's own answer) and charged after; a bucket may go into debt by one miss. Bounded: at
 * most `maxBuckets` buckets of each kind, least recently used dropped first (a dropped bucket
 * starts full again, which only a caller with more pseudonyms than `maxBuckets` can exploit, and the
 * operator's own bucket still holds it).
 *
 * @example
 * const a = limiter.admit(callerWalletId, payerRef);
 * if (a.ok) limiter.charge(a, known);
 */
export class LookupLimiter {
  readonly #perOperator: LookupRate;
  readonly #perPayer: LookupRate;
  readonly #missCost: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #operators = new Map<string, Bucket>();
  readonly #payers = new Map<string, Bucket>();

  constructor(options: LookupLimiterOptions = {}) {
    this.#perOperator = options.perOperator ?? { ratePerSecond: 200, burst: 2_000 };
    this.#perPayer = options.perPayer ?? { ratePerSecond: 5, burst: 50 };
    this.#missCost = Math.max(1, options.missCost ?? 10);
    this.#max = Math.max(1, options.maxBuckets ?? 10_000);
    this.#now = options.now ?? (() => performance.now());
  }

  /** Buckets held, per kind (for tests: they stay within `maxBuckets`). */
  get size(): { operators: number; payers: number } {
    return { operators: this.#operators.size, payers: this.#payers.size };
  }

  /** Whether `operator` (and its customer `payer`, when known) may look up a handle now. */
  admit(operator: string, payer?: string): Admission {
    const now = this.#now();
    const op = this.#refill(this.#operators, operator.toLowerCase(), this.#perOperator, now);
    const keys = [operator.toLowerCase()];
    let wait = waitFor(op, this.#perOperator);
    if (payer !== undefined) {
      const key = `${operator.toLowerCase()}:${payer.toLowerCase()}`;
      keys.push(key);
      wait = Math.max(wait, waitFor(this.#refill(this.#payers, key, this.#perPayer, now), this.#perPayer));
    }
    return wait === 0 ? { ok: true, keys } : { ok: false, retryAfterMs: wait };
  }

  /** Charges an admitted lookup: 1 token for a known handle, `missCost` for an unknown one. */
  charge(admission: Extract<Admission, { ok: true }>, known: boolean): void {
    const cost = known ? 1 : this.#missCost;
    const [operator, payer] = admission.keys;
    const op = this.#operators.get(operator);
    if (op) op.tokens -= cost;
    const p = payer === undefined ? undefined : this.#payers.get(payer);
    if (p) p.tokens -= cost;
  }

  #refill(map: Map<string, Bucket>, key: string, rate: LookupRate, now: number): Bucket {
    let b = map.get(key);
    if (b) {
      map.delete(key);
      b.tokens = Math.min(rate.burst, b.tokens + ((now - b.at) / 1000) * rate.ratePerSecond);
      b.at = now;
    } else {
      b = { tokens: rate.burst, at: now };
      if (map.size >= this.#max) map.delete(map.keys().next().value!);
    }
    map.set(key, b);
    return b;
  }
}

/** 0 when the bucket holds a token, else the ms until it does. */
function waitFor(b: Bucket, rate: LookupRate): number {
  return b.tokens >= 1 ? 0 : ((1 - b.tokens) / rate.ratePerSecond) * 1000;
}
