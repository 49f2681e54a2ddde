import type { Account, Hex, PublicClient } from "viem";
import type { Signer } from "./clients.ts";

/**
 * The gas limit sent for an estimate: 25 % and 10,000 more. An estimate is made against the latest
 * block, but the transaction runs in a later one: when blocks share a second (the embedded chain
 * follows the wall clock; QBFT between blocks) a write of `block.timestamp` that costs 100 gas in
 * the estimate (same value) costs 2,900 once the second has moved on, and an exact estimate then
 * runs out of gas.
 */
export function withGasMargin(estimate: bigint): bigint {
  return (estimate * 125n) / 100n + 10_000n;
}

/**
 * Sends a contract call and waits for it to be mined; a revert is thrown (with the contract's
 * custom error decoded by viem from the simulation). For setup and governance paths, not the
 * batch hot path.
 */
export async function sendAndConfirm(
  signer: Signer,
  client: PublicClient,
  call: { address: Hex; abi: readonly unknown[]; functionName: string; args?: readonly unknown[] },
): Promise<{ hash: Hex; blockNumber: bigint }> {
  const { request } = await client.simulateContract({ ...call, account: signer.account as Account } as never);
  const estimate = await client.estimateContractGas({ ...call, account: signer.account as Account } as never);
  const hash = await signer.writeContract({ ...(request as object), gas: withGasMargin(estimate) } as never);
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
  return { hash, blockNumber: receipt.blockNumber };
}
