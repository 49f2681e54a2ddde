import type { Account, Hex, PublicClient } from "viem";
import type { Signer } from "./clients.ts";

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
  const hash = await signer.writeContract(request as never);
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
  return { hash, blockNumber: receipt.blockNumber };
}
