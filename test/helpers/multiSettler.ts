import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Abi, type Address, type Hex, type PublicClient, encodeFunctionData } from "viem";
import { settlementHubAbi, settlementTokenAbi, walletRegistryAbi } from "../../node/chain/abi/generated.ts";
import type { Signer } from "../../node/chain/clients.ts";
import type { DeploymentManifest } from "../../node/chain/manifest.ts";
import { type TransferRecord, groupTransfers, walletIdOf } from "../../node/receipts/index.ts";

const ARTIFACT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../artifacts/contracts/test/MultiSettler.sol/MultiSettler.json");

/** One batch as the hub takes it, before packing: transfers to payee wallets. */
export type BatchInput = (TransferRecord & { toWallet: Hex })[];

/**
 * A member whose settlement account is the test contract `MultiSettler` (contracts/test): several
 * calls in one transaction, as a multisig makes them.
 */
export interface ContractMember {
  code: string;
  walletId: Hex;
  /** The MultiSettler: the member's settlement account. */
  account: Address;
  /** Makes the contract send `calls` in ONE transaction; returns its hash once mined. */
  execute(calls: { target: Address; data: Hex }[]): Promise<Hex>;
  /** `settleBatch` calldata for consecutive batches starting at `firstSeq` (the hub's nextSeq). */
  settleCalls(firstSeq: bigint, batches: BatchInput[]): { target: Address; data: Hex }[];
  /** `exit` calldata: the member leaves the network. */
  exitCall(): { target: Address; data: Hex };
}

/**
 * Deploys a MultiSettler with `owner`, has it apply as `code`, approves it with `governor` and
 * mints it `reserve` with `issuer`.
 */
export async function admitContractMember(
  client: PublicClient,
  manifest: DeploymentManifest,
  signers: { owner: Signer; governor: Signer; issuer: Signer },
  code: string,
  reserve: bigint,
): Promise<ContractMember> {
  const artifact = JSON.parse(await readFile(ARTIFACT, "utf8")) as { abi: Abi; bytecode: Hex };
  const mined = async (hash: Hex) => {
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${hash} reverted`);
    return receipt;
  };
  const deployed = await mined(await signers.owner.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode } as never));
  const account = deployed.contractAddress!;
  const { walletRegistry: registry, settlementHub: hub, settlementToken: token } = manifest.contracts;
  const walletId = walletIdOf(code);
  const execute = async (calls: { target: Address; data: Hex }[]) => {
    const hash = await signers.owner.writeContract({ address: account, abi: artifact.abi, functionName: "execute", args: [calls] } as never);
    await mined(hash);
    return hash;
  };
  const validator = `0x${Buffer.from(walletId.slice(2, 42), "hex").toString("hex")}` as Address;
  await execute([{ target: registry, data: encodeFunctionData({ abi: walletRegistryAbi, functionName: "applyForMembership", args: [walletId, code, validator, "http://127.0.0.1:1"] }) }]);
  await mined(await signers.governor.writeContract({ address: registry, abi: walletRegistryAbi, functionName: "approve", args: [walletId] } as never));
  await mined(await signers.issuer.writeContract({ address: token, abi: settlementTokenAbi, functionName: "mint", args: [account, reserve, `0x${"22".repeat(32)}`] } as never));
  return {
    code,
    walletId,
    account,
    execute,
    settleCalls(firstSeq, batches) {
      let seq = firstSeq;
      return batches.map((transfers) => {
        const { groups, packed } = groupTransfers(transfers);
        const data = encodeFunctionData({ abi: settlementHubAbi, functionName: "settleBatch", args: [seq, groups, packed] });
        seq += BigInt(transfers.length);
        return { target: hub, data };
      });
    },
    exitCall: () => ({ target: registry, data: encodeFunctionData({ abi: walletRegistryAbi, functionName: "exit", args: [walletId] }) }),
  };
}
