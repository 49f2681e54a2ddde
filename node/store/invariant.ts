import { HulianError } from "./errors.ts";

/**
 * A rule of the code itself was broken (a bug, or a store changed behind the
 * node's back), not a bad request: the process's state can no longer be
 * trusted. Never retryable. `details.invariant` names the rule.
 */
export class InvariantError extends HulianError {
  override name = "InvariantError";
  constructor(invariant: string, message: string, details: Record<string, unknown> = {}) {
    super("invariant_violated", `Invariant "${invariant}" violated: ${message}`, { details: { invariant, ...details } });
  }
}

/**
 * Asserts a rule that prose used to state (TigerBeetle's habit): throws
 * {@link InvariantError} when `condition` is false. `details` is a function
 * so that the hot path builds nothing while the rule holds.
 *
 * @example
 * invariant(sum === 0n, "postings_sum_to_zero", "a transaction moved money out of nowhere", () => ({ sum: sum.toString() }));
 */
export function invariant(
  condition: boolean,
  name: string,
  message: string,
  details?: () => Record<string, unknown>,
): asserts condition {
  if (!condition) throw new InvariantError(name, message, details?.());
}
