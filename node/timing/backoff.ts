/** How {@link backoff} grows and spreads its delays. */
export interface BackoffOptions {
  /** Delay of the first retry (attempt 0) before jitter, ms. */
  baseMs: number;
  /** Largest delay, ms: the doubling stops here (it wins over a larger `baseMs`). */
  maxMs: number;
  /**
   * `"full"` (default): a uniformly random delay between 0 and the exponential one, so loops that
   * failed together (every service of a node, every node of a network, when one chain node
   * restarts) do not retry together. `"none"`: exactly the exponential delay, for a retry time that
   * is stored or shown.
   */
  jitter?: "full" | "none";
}

/** Beyond this exponent `baseMs * 2 ** n` passes any useful `maxMs`; it also keeps the product finite. */
const MAX_EXPONENT = 52;

/**
 * The delay before retry number `attempt` (0 for the first retry): `baseMs * 2 ** attempt`,
 * capped at `maxMs`, then with full jitter a random point in `[0, that]`.
 * Always within `[0, maxMs]`; without jitter exactly `min(maxMs, baseMs * 2 ** attempt)`.
 *
 * @example
 * backoff(3, { baseMs: 200, maxMs: 5_000, jitter: "none" }) // 1_600
 * backoff(9, { baseMs: 200, maxMs: 5_000, jitter: "none" }) // 5_000
 * backoff(3, { baseMs: 200, maxMs: 5_000 })                  // somewhere in [0, 1_600]
 */
export function backoff(attempt: number, options: BackoffOptions): number {
  const { baseMs, maxMs, jitter = "full" } = options;
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`backoff attempt must be a whole number ≥ 0, got ${attempt}`);
  if (!(baseMs >= 0 && Number.isFinite(baseMs) && maxMs >= 0 && Number.isFinite(maxMs))) {
    throw new RangeError(`backoff needs finite baseMs and maxMs ≥ 0, got baseMs ${baseMs} and maxMs ${maxMs}`);
  }
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, MAX_EXPONENT));
  return jitter === "none" ? exponential : Math.random() * exponential;
}
