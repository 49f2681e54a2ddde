import {
  type Address,
  type Hex,
  type PublicClient,
  decodeEventLog,
  encodeEventTopics,
  pad,
} from "viem";
import { settlementHubAbi, settlementTokenAbi } from "../chain/abi/generated.ts";
import { DEFAULT_LOG_SPAN_BLOCKS, getLogsPaged } from "../chain/getLogsPaged.ts";
import { isInBatch } from "../receipts/batchMembers.ts";
import type { Receipt } from "../receipts/receipt.ts";
import { TRANSFERS_SETTLED_TOPIC, receiptsOfTransfersSettled } from "../receipts/transfersSettled.ts";

/**
 * Where an event sits on chain. One `TransfersSettled` log carries a whole payee group, so its
 * transfers share a `logIndex`; `record` is the transfer's place among the log's records (0 for
 * every other event), and (blockNumber, logIndex, record) is chain order.
 */
export interface ChainPosition {
  txHash: Hex;
  blockNumber: bigint;
  logIndex: number;
  record: number;
}

/** What the inbound follower reacts to, decoded, in chain order. */
export type InboundEvent = ChainPosition &
  (
    | { type: "settled"; receipt: Receipt }
    | { type: "returned"; originalTransferId: Hex; fromWallet: Hex; amount: bigint; reasonCode: number }
    | { type: "issued"; amount: bigint; reserveRef: Hex }
    | { type: "redeemed"; amount: bigint; reserveRef: Hex }
  );

const topic = (abi: readonly unknown[], eventName: string) =>
  (encodeEventTopics({ abi: abi as never, eventName } as never) as Hex[])[0];

const TOPICS = {
  transferReturned: topic(settlementHubAbi, "TransferReturned"),
  batchSettled: topic(settlementHubAbi, "BatchSettled"),
  issued: topic(settlementTokenAbi, "Issued"),
  redeemed: topic(settlementTokenAbi, "Redeemed"),
};

type RawLog = { data: Hex; topics: readonly Hex[]; transactionHash: Hex | null; blockNumber: unknown; logIndex: unknown };

function position(log: RawLog, record = 0): ChainPosition {
  return { txHash: log.transactionHash as Hex, blockNumber: BigInt(log.blockNumber as string | bigint), logIndex: Number(log.logIndex), record };
}

/** One "settled" event per transfer of a `TransfersSettled` log, in the log's (sequence) order. */
function settledEvents(log: RawLog): InboundEvent[] {
  return receiptsOfTransfersSettled(log).map((receipt, i) => ({ type: "settled" as const, receipt, ...position(log, i) }));
}

function returnedEvent(log: RawLog): InboundEvent {
  const { args } = decodeEventLog({ abi: settlementHubAbi, data: log.data, topics: log.topics as never, eventName: "TransferReturned" } as never) as unknown as {
    args: { originalTransferId: Hex; fromWallet: Hex; amount: bigint; reasonCode: number };
  };
  return {
    type: "returned",
    originalTransferId: args.originalTransferId,
    fromWallet: args.fromWallet,
    amount: BigInt(args.amount),
    reasonCode: Number(args.reasonCode),
    ...position(log),
  };
}

function byChainOrder(a: ChainPosition, b: ChainPosition): number {
  if (a.blockNumber !== b.blockNumber) return a.blockNumber < b.blockNumber ? -1 : 1;
  return a.logIndex - b.logIndex || a.record - b.record;
}

/**
 * Everything in blocks `[from, to]` that concerns wallet `walletId` (settlement account `account`):
 * transfers to it, returns of its own payments, and reserve mints and burns. Filtered by indexed
 * topics on the node, so a wallet reads only its own events however busy the network is. Read in
 * `eth_getLogs` spans of at most `spanBlocks` (the node's `rpc-max-logs-range`).
 */
export async function fetchInboundEvents(
  client: PublicClient,
  contracts: { hub: Address; token: Address },
  walletId: Hex,
  account: Address,
  from: bigint,
  to: bigint,
  spanBlocks: number | bigint = DEFAULT_LOG_SPAN_BLOCKS,
): Promise<InboundEvent[]> {
  const accountTopic = pad(account, { size: 32 });
  // Both hub events name this wallet in topic 2: TransfersSettled its payee wallet (one log per
  // payee group, so a wallet reads only the groups paid to it), TransferReturned the original payer
  // (the wallet the money goes back to). One filter reads both.
  const [hubLogs, tokenLogs] = await Promise.all([
    getLogsPaged<RawLog>(client, { address: contracts.hub, topics: [[TRANSFERS_SETTLED_TOPIC, TOPICS.transferReturned], null, walletId] }, from, to, spanBlocks),
    getLogsPaged<RawLog>(client, { address: contracts.token, topics: [[TOPICS.issued, TOPICS.redeemed], accountTopic] }, from, to, spanBlocks),
  ]);
  const events = hubLogs.flatMap((log) => (log.topics[0] === TRANSFERS_SETTLED_TOPIC ? settledEvents(log) : [returnedEvent(log)]));
  for (const log of tokenLogs) {
    const eventName = log.topics[0] === TOPICS.issued ? "Issued" : "Redeemed";
    const { args } = decodeEventLog({ abi: settlementTokenAbi, data: log.data, topics: log.topics as never, eventName } as never) as unknown as {
      args: { amount: bigint; reserveRef: Hex };
    };
    events.push({ type: eventName === "Issued" ? "issued" : "redeemed", amount: BigInt(args.amount), reserveRef: args.reserveRef, ...position(log) });
  }
  return events.sort(byChainOrder);
}

/** One batch a transaction settled, with its receipts in sequence order (its Merkle leaves' order). */
export interface SettledBatchOf {
  batchNo: bigint;
  fromWallet: Hex;
  firstSeq: bigint;
  count: number;
  receipts: Receipt[];
}

/**
 * Every batch settled in transaction `txHash`, each with all its receipts — every payee group, not
 * only ours, since a return must prove its receipt against the whole batch. A transaction may
 * settle several batches (a contract settlement account, e.g. a multisig, calling `settleBatch`
 * twice): each `BatchSettled` takes exactly the records of its wallet in its sequence range
 * `[firstSeq, firstSeq + count)`, so no batch borrows another's records.
 */
export async function fetchBatchesOf(client: PublicClient, hub: Address, txHash: Hex): Promise<SettledBatchOf[]> {
  const receipt = await client.getTransactionReceipt({ hash: txHash });
  const records: Receipt[] = [];
  const batches: SettledBatchOf[] = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== hub.toLowerCase()) continue;
    if (log.topics[0] === TRANSFERS_SETTLED_TOPIC) records.push(...receiptsOfTransfersSettled(log));
    if (log.topics[0] === TOPICS.batchSettled) {
      const { args } = decodeEventLog({ abi: settlementHubAbi, data: log.data, topics: log.topics as never, eventName: "BatchSettled" } as never) as unknown as {
        args: { fromWallet: Hex; batchNo: bigint; firstSeq: bigint; count: number };
      };
      batches.push({ batchNo: BigInt(args.batchNo), fromWallet: args.fromWallet, firstSeq: BigInt(args.firstSeq), count: Number(args.count), receipts: [] });
    }
  }
  if (batches.length === 0) throw new Error(`transaction ${txHash} settled no batch`);
  for (const batch of batches) {
    batch.receipts = records.filter((r) => isInBatch(batch, r)).sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
    if (batch.receipts.length !== batch.count) {
      throw new Error(`transaction ${txHash}: batch ${batch.batchNo} says ${batch.count} transfers, its logs hold ${batch.receipts.length}`);
    }
  }
  return batches;
}
