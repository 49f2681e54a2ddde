import { type Address, type Hex, type PublicClient, toHex } from "viem";
import { settlementHubAbi, settlementTokenAbi } from "../chain/abi/generated.ts";
import { buildMerkleTree, merkleProof, nextHead, processProof, receiptLeaf, type Receipt } from "../receipts/index.ts";
import type { BatchRecord, IndexStore, TransferRecord } from "./indexStore.ts";
import { decodeQbftExtraData, type QbftExtraData } from "./qbftExtraData.ts";
import { transfersOfBatch } from "./transferSearch.ts";

/** Token balances of settlement accounts at one block (the indexed head, so they match the index). */
export async function readBalances(client: PublicClient, token: Address, accounts: readonly string[], blockNumber?: bigint): Promise<bigint[]> {
  return Promise.all(
    accounts.map(
      (account) =>
        client.readContract({ address: token, abi: settlementTokenAbi, functionName: "balanceOf", args: [account as Address], blockNumber } as never) as Promise<bigint>,
    ),
  );
}

/** The receipt (leaf preimage) of an indexed transfer. */
export function receiptOf(t: TransferRecord): Receipt {
  return {
    transferId: t.transferId as Hex,
    fromWallet: t.fromWallet as Hex,
    toWallet: t.toWallet as Hex,
    seq: BigInt(t.seq),
    amount: BigInt(t.amount),
    payerRef: t.payerRef as Hex,
    payeeRef: t.payeeRef as Hex,
    memoHash: t.memoHash as Hex,
  };
}

/** The outcome of checking one transfer against the chain. */
export interface ProofCheck {
  leaf: Hex;
  index: number;
  batchSize: number;
  proof: Hex[];
  computedRoot: Hex;
  /** `SettlementHub.batchRoot(fromWallet, batchNo)`, read now from the chain. */
  onChainRoot: Hex;
  /** The root in the `BatchSettled` event. */
  eventRoot: Hex;
  /** The hub's own `verifyReceipt` (an `eth_call`, nothing sent). */
  hubVerified: boolean;
  /** The batch head recomputed from its previous head and link equals the head in the event. */
  headLinks: boolean;
  verified: boolean;
}

/**
 * Proves an indexed transfer from chain state alone: rebuilds its batch's Merkle tree from the
 * batch's receipts (node/receipts, bit for bit as the hub), takes the transfer's proof, and checks
 * the root against `batchRoot` read from the hub now, and once more with the hub's `verifyReceipt`.
 * `verified` needs all of them to agree.
 */
export async function checkTransferProof(
  client: PublicClient,
  hub: Address,
  index: IndexStore,
  transfer: TransferRecord,
  batch: BatchRecord,
): Promise<ProofCheck> {
  const members = await transfersOfBatch(index, batch.walletId, BigInt(batch.firstSeq), batch.count);
  const leaves = members.map((m) => receiptLeaf(receiptOf(m)));
  const i = members.findIndex((m) => m.transferId === transfer.transferId);
  if (i < 0 || members.length !== batch.count) throw new Error(`batch ${batch.wallet}/${batch.batchNo} is incomplete in the index`);
  const tree = buildMerkleTree(leaves);
  const proof = merkleProof(tree, i);
  const computedRoot = processProof(leaves[i], proof);
  const [onChainRoot, hubVerified] = await Promise.all([
    client.readContract({ address: hub, abi: settlementHubAbi, functionName: "batchRoot", args: [batch.walletId as Hex, BigInt(batch.batchNo)] } as never) as Promise<Hex>,
    client.readContract({ address: hub, abi: settlementHubAbi, functionName: "verifyReceipt", args: [receiptOf(transfer), BigInt(batch.batchNo), proof] } as never) as Promise<boolean>,
  ]);
  const headLinks =
    nextHead(batch.prevHead as Hex, { batchNo: BigInt(batch.batchNo), firstSeq: BigInt(batch.firstSeq), count: batch.count, root: batch.root as Hex }).toLowerCase() ===
    batch.head.toLowerCase();
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  return {
    leaf: leaves[i],
    index: i,
    batchSize: members.length,
    proof,
    computedRoot,
    onChainRoot,
    eventRoot: batch.root as Hex,
    hubVerified,
    headLinks,
    verified: same(computedRoot, onChainRoot) && same(computedRoot, batch.root) && hubVerified && headLinks,
  };
}

/** A block summary for lists. */
export interface BlockSummary {
  number: string;
  hash: Hex;
  timestamp: number;
  transactions: number;
  gasUsed: string;
  baseFeePerGas: string | null;
  miner: string;
}

type RpcBlock = {
  number: Hex;
  hash: Hex;
  parentHash: Hex;
  timestamp: Hex;
  miner: Hex;
  extraData: Hex;
  gasUsed: Hex;
  gasLimit: Hex;
  baseFeePerGas?: Hex;
  transactions: ({ hash: Hex; from: Hex; to: Hex | null; gasPrice?: Hex; maxFeePerGas?: Hex; input: Hex } | Hex)[];
};

async function getBlock(client: PublicClient, n: bigint, full: boolean): Promise<RpcBlock | null> {
  return (await client.request({ method: "eth_getBlockByNumber", params: [toHex(n), full] } as never)) as RpcBlock | null;
}

function summary(b: RpcBlock): BlockSummary {
  return {
    number: BigInt(b.number).toString(),
    hash: b.hash,
    timestamp: Number(BigInt(b.timestamp)),
    transactions: b.transactions.length,
    gasUsed: BigInt(b.gasUsed).toString(),
    baseFeePerGas: b.baseFeePerGas ? BigInt(b.baseFeePerGas).toString() : null,
    miner: b.miner,
  };
}

/** The latest `count` blocks up to `before` (exclusive; default: the head), newest first. */
export async function recentBlocks(client: PublicClient, count: number, before?: bigint): Promise<{ items: BlockSummary[]; head: string }> {
  const head = await client.getBlockNumber();
  const top = before !== undefined && before <= head + 1n ? before - 1n : head;
  const numbers: bigint[] = [];
  for (let n = top; n >= 0n && numbers.length < count; n--) numbers.push(n);
  const blocks = await Promise.all(numbers.map((n) => getBlock(client, n, false)));
  return { items: blocks.filter((b) => b !== null).map(summary), head: head.toString() };
}

/** A block in full, with QBFT data when its extraData has it. */
export interface BlockDetail extends BlockSummary {
  parentHash: Hex;
  gasLimit: string;
  extraData: Hex;
  /** Decoded QBFT/IBFT 2.0 extraData, or null with the reason in `consensusNote`. */
  qbft: (QbftExtraData & { proposer: string }) | null;
  consensusNote: string;
  txs: { hash: Hex; from: string; to: string | null; gasPrice: string; zeroGasPrice: boolean; contract: string | null; selector: string }[];
}

/** Reads block `n` with its transactions; `null` when it does not exist yet. */
export async function readBlock(client: PublicClient, n: bigint, contracts: Record<string, Address>): Promise<BlockDetail | null> {
  const b = await getBlock(client, n, true);
  if (!b) return null;
  const byAddress = new Map(Object.entries(contracts).map(([name, a]) => [a.toLowerCase(), name]));
  const decoded = await decodeQbftExtraData(b.extraData, b.hash);
  return {
    ...summary(b),
    parentHash: b.parentHash,
    gasLimit: BigInt(b.gasLimit).toString(),
    extraData: b.extraData,
    qbft: decoded ? { ...decoded, proposer: b.miner } : null,
    consensusNote: decoded
      ? "QBFT: the proposer is the block's beneficiary; validators and commit seals come from extraData."
      : "No QBFT data in this block's extraData: this chain (e.g. the embedded devnet chain) does not run QBFT, so there is no proposer, validator list or commit seal to show.",
    txs: b.transactions.map((t) => {
      const tx = t as Exclude<typeof t, Hex>;
      const price = BigInt(tx.gasPrice ?? tx.maxFeePerGas ?? "0x0");
      return {
        hash: tx.hash,
        from: tx.from,
        to: tx.to,
        gasPrice: price.toString(),
        zeroGasPrice: price === 0n,
        contract: tx.to ? (byAddress.get(tx.to.toLowerCase()) ?? null) : null,
        selector: tx.input.slice(0, 10),
      };
    }),
  };
}
