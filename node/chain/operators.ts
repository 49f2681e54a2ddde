import type { Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from "viem";
import { walletRegistryAbi } from "./abi/generated.ts";

type Sender = WalletClient<Transport, Chain, Account>;

export interface OperatorProfile {
  walletId: Hex;
  name: string;
  validator: Address;
  endpoint: string;
}

async function confirm(client: PublicClient, hash: Hex): Promise<void> {
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
}

/** The candidate applies from its own settlement account. */
export async function applyForMembership(
  candidate: Sender,
  client: PublicClient,
  registry: Address,
  profile: OperatorProfile,
): Promise<void> {
  const hash = await candidate.writeContract({
    address: registry,
    abi: walletRegistryAbi,
    functionName: "applyForMembership",
    args: [profile.walletId, profile.name, profile.validator, profile.endpoint],
  } as never);
  await confirm(client, hash);
}

/** Governance admits a pending operator. */
export async function approveOperator(
  governor: Sender,
  client: PublicClient,
  registry: Address,
  walletId: Hex,
): Promise<void> {
  const hash = await governor.writeContract({
    address: registry,
    abi: walletRegistryAbi,
    functionName: "approve",
    args: [walletId],
  } as never);
  await confirm(client, hash);
}
