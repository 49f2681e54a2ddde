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

/**
 * Every receipt of the batch settled in transaction `txHash`, in sequence order (the order of the
 * batch's Merkle leaves), and the batch number: all the transaction's `TransfersSettled` logs —
 * every payee group, not only ours — since a return must prove its receipt against the whole batch.
 */
export async function fetchBatchOf(
  client: PublicClient,
  hub: Address,
  txHash: Hex,
): Promise<{ batchNo: bigint; receipts: Receipt[] }> {
  const receipt = await client.getTransactionReceipt({ hash: txHash });
  const receipts: Receipt[] = [];
  let batchNo: bigint | undefined;
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== hub.toLowerCase()) continue;
    if (log.topics[0] === TRANSFERS_SETTLED_TOPIC) receipts.push(...receiptsOfTransfersSettled(log));
    if (log.topics[0] === TOPICS.batchSettled) batchNo = BigInt(log.topics[2]!);
  }
  if (batchNo === undefined) throw new Error(`transaction ${txHash} settled no batch`);
  return { batchNo, receipts: receipts.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0)) };
}
