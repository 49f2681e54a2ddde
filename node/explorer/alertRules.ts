/**
 * Thresholds of the alerts engine. Event alerts (large payment, burst, reverted attempt, frozen
 * reference, suspension, pause) are raised while indexing and kept; state alerts (backing
 * shortfall, stale or missing attestation, an operator suspended now, the network paused now) are
 * computed on each request from the indexed state and the chain head.
 */
export interface AlertRules {
  /** A single transfer at or above this amount (minor units) is a `large_payment`. */
  largeAmount: bigint;
  /** More than `maxTransfers` from one payer reference of one wallet within `windowSeconds` is a `burst`. */
  burst: { windowSeconds: number; maxTransfers: number };
  /** An active operator whose latest attestation is older than this (or missing) is `attestation_stale`. */
  staleAttestationSeconds: number;
}

/** Defaults: 50,000.00 in a 2-decimal currency; 10 transfers a minute; daily attestations. */
export const DEFAULT_ALERT_RULES: AlertRules = {
  largeAmount: 5_000_000n,
  burst: { windowSeconds: 60, maxTransfers: 10 },
  staleAttestationSeconds: 24 * 3600,
};

/**
 * Counts transfers per key in a sliding window and says when a key crosses the limit. One alert
 * per crossing: the key must fall back under the limit before it can fire again.
 *
 * Kept in memory: after a restart the windows start empty, so a burst that straddles the restart
 * is seen only by what happens after it (documented trade-off; bursts are minutes long).
 */
export class BurstDetector {
  readonly #windowSeconds: number;
  readonly #max: number;
  readonly #seen = new Map<string, { times: number[]; firing: boolean }>();

  constructor(rule: AlertRules["burst"]) {
    this.#windowSeconds = rule.windowSeconds;
    this.#max = rule.maxTransfers;
  }

  /** Records one transfer of `key` at `timestamp`; returns the count in the window when it just crossed the limit. */
  observe(key: string, timestamp: number): number | undefined {
    let entry = this.#seen.get(key);
    if (!entry) {
      entry = { times: [], firing: false };
      this.#seen.set(key, entry);
    }
    entry.times.push(timestamp);
    const start = timestamp - this.#windowSeconds;
    while (entry.times.length > 0 && entry.times[0] <= start) entry.times.shift();
    if (entry.times.length <= this.#max) {
      entry.firing = false;
      if (entry.times.length === 1 && this.#seen.size > 50_000) this.#prune(start);
      return undefined;
    }
    if (entry.firing) return undefined;
    entry.firing = true;
    return entry.times.length;
  }

  #prune(before: number): void {
    for (const [key, entry] of this.#seen) {
      if (entry.times.length === 0 || entry.times[entry.times.length - 1] <= before) this.#seen.delete(key);
    }
  }
}
