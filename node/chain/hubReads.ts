import type { Address, Hex, PublicClient } from "viem";
import { settlementHubAbi, settlementTokenAbi } from "./abi/generated.ts";

/** The sequence number the wallet's next batch must start at (`SettlementHub.nextSeq`). */
export async function readNextSeq(client: PublicClient, hub: Address, walletId: Hex): Promise<bigint> {
  return (await client.readContract({ address: hub, abi: settlementHubAbi, functionName: "nextSeq", args: [walletId] })) as bigint;
}

/** Settlement tokens `account` holds, at `blockNumber` when given (else the latest block). */
export async function readTokenBalance(client: PublicClient, token: Address, account: Address, blockNumber?: bigint): Promise<bigint> {
  return (await client.readContract({
    address: token,
    abi: settlementTokenAbi,
    functionName: "balanceOf",
    args: [account],
    ...(blockNumber === undefined ? {} : { blockNumber }),
  })) as bigint;
}

/**
 * Returns the hub holds for `walletId` because its account could not receive them (it was
 * Suspended or Exited when they were made), at `blockNumber` when given: the wallet's money all the
 * same, paid out by `claimHeldReturns` once it is Active again.
 */
export async function readHeldReturns(client: PublicClient, hub: Address, walletId: Hex, blockNumber?: bigint): Promise<bigint> {
  return (await client.readContract({
    address: hub,
    abi: settlementHubAbi,
    functionName: "heldReturnsOf",
    args: [walletId],
    ...(blockNumber === undefined ? {} : { blockNumber }),
  })) as bigint;
}
