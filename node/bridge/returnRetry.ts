import { type Abi, BaseError, ContractFunctionRevertedError } from "viem";
import { settlementHubAbi, settlementTokenAbi } from "../chain/abi/generated.ts";
import { backoff } from "../timing/backoff.ts";

/**
 * The ABI a `returnTransfer` call is simulated with: the hub's, plus the token's errors, because a
 * return that fails inside the token (a balance too low, a pause, a holder the token refuses)
 * reverts with the token's custom error, which the hub's ABI alone cannot name.
 */
export const RETURN_CALL_ABI = [...settlementHubAbi, ...(settlementTokenAbi as Abi).filter((item) => item.type === "error")] as unknown as typeof settlementHubAbi;

/** Delay before the first retry of a failed return, ms. */
export const RETURN_RETRY_BASE_MS = 1_000;
/** Longest delay between two attempts of one return, ms: a stuck return is still tried every 10 minutes. */
export const RETURN_RETRY_MAX_MS = 10 * 60_000;

/**
 * When a return that failed `attempts` times (1, 2, …) is tried again: exponential backoff from
 * {@link RETURN_RETRY_BASE_MS}, doubling per attempt, capped at {@link RETURN_RETRY_MAX_MS}.
 *
 * @example nextAttemptAt(3, 0) // 4_000
 */
export function nextAttemptAt(attempts: number, now: number): number {
  // No jitter: the time is stored on the item and shown to the operator.
  return now + backoff(Math.max(attempts - 1, 0), { baseMs: RETURN_RETRY_BASE_MS, maxMs: RETURN_RETRY_MAX_MS, jitter: "none" });
}

/**
 * A short, stable description of why a return failed: the contract's custom error by name and
 * arguments when the revert carries one (hub or token), else the first line of the message.
 */
export function describeReturnFailure(error: unknown): string {
  if (error instanceof BaseError) {
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) {
      if (revert.data?.errorName) return `${revert.data.errorName}(${(revert.data.args ?? []).map(String).join(", ")})`;
      if (revert.raw) return `unknown revert ${revert.raw.slice(0, 10)}`;
      if (revert.reason) return `revert: ${revert.reason}`;
    }
    return error.shortMessage.split("\n")[0];
  }
  return String((error as Error)?.message ?? error).split("\n")[0];
}
