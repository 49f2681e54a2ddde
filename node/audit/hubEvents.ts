import { type Address, type Hex, decodeEventLog, encodeEventTopics } from "viem";
import { settlementHubAbi } from "../chain/abi/generated.ts";
import { isInBatch } from "../receipts/batchMembers.ts";
import type { Receipt } from "../receipts/receipt.ts";
import { TRANSFERS_SETTLED_TOPIC, receiptsOfTransfersSettled } from "../receipts/transfersSettled.ts";

/**
 * Where a log sits on chain. A `TransfersSettled` log carries a whole payee group, so its
 * transfers share a `logIndex`: `record` is a transfer's place among its log's packed records
 * (0 for every other event). (blockNumber, logIndex, record) is chain order.
 */
export interface LogPosition {
  txHash: Hex;
  blockNumber: bigint;
  logIndex: number;
  record: number;
}

/** One transfer of a `TransfersSettled` log. */
export interface SettledTransfer extends LogPosition {
  receipt: Receipt;
}

/** A `BatchSettled` event: one link of a wallet's root chain. */
export interface SettledBatch extends LogPosition {
  fromWallet: Hex;
  batchNo: bigint;
  firstSeq: bigint;
  count: number;
  total: bigint;
  root: Hex;
  prevHead: Hex;
  head: Hex;
}

/** A `TransferReturned` event: the payee operator sent a transfer back. */
export interface ReturnedTransfer extends LogPosition {
  originalTransferId: Hex;
  /** The original payer's wallet (who gets the money back). */
  fromWallet: Hex;
  /** The original payee's wallet (who sends it back). */
  toWallet: Hex;
  amount: bigint;
  payerRef: Hex;
  reasonCode: number;
}

/** A log as `eth_getLogs` and transaction receipts return it. */
export type RawLog = { address: Address; data: Hex; topics: Hex[]; transactionHash: Hex; blockNumber: Hex | bigint; logIndex: Hex | number };

const topic = (eventName: string) => (encodeEventTopics({ abi: settlementHubAbi as never, eventName } as never) as Hex[])[0];

/** topic0 of the hub events the audit reads. */
export const HUB_TOPICS = {
  transfersSettled: TRANSFERS_SETTLED_TOPIC,
  batchSettled: topic("BatchSettled"),
  transferReturned: topic("TransferReturned"),
};

/** Where `log` sits; `record` for the transfers of a group log. */
export function positionOf(log: RawLog, record = 0): LogPosition {
  return { txHash: log.transactionHash, blockNumber: BigInt(log.blockNumber), logIndex: Number(log.logIndex), record };
}

/** Chain order of positions. */
export function byChainOrder(a: LogPosition, b: LogPosition): number {
  if (a.blockNumber !== b.blockNumber) return a.blockNumber < b.blockNumber ? -1 : 1;
  return a.logIndex - b.logIndex || a.record - b.record;
}

const lower = (h: Hex) => h.toLowerCase() as Hex;

function args<T>(eventName: string, log: RawLog): T {
  return (decodeEventLog({ abi: settlementHubAbi as never, data: log.data, topics: log.topics as never, eventName } as never) as unknown as { args: T }).args;
}

/** The transfers of one `TransfersSettled` log (decoded by the receipts codec), in sequence order. */
export function decodeTransfersSettled(log: RawLog): SettledTransfer[] {
  return receiptsOfTransfersSettled(log).map((r, i) => ({
    receipt: {
      transferId: lower(r.transferId),
      fromWallet: lower(r.fromWallet),
      toWallet: lower(r.toWallet),
      seq: r.seq,
      amount: r.amount,
      payerRef: lower(r.payerRef),
      payeeRef: lower(r.payeeRef),
      memoHash: lower(r.memoHash),
    },
    ...positionOf(log, i),
  }));
}

/** Decodes a `BatchSettled` log. */
export function decodeBatch(log: RawLog): SettledBatch {
  const a = args<{ fromWallet: Hex; batchNo: bigint; firstSeq: bigint; count: number; total: bigint; root: Hex; prevHead: Hex; head: Hex }>("BatchSettled", log);
  return {
    fromWallet: lower(a.fromWallet),
    batchNo: BigInt(a.batchNo),
    firstSeq: BigInt(a.firstSeq),
    count: Number(a.count),
    total: BigInt(a.total),
    root: lower(a.root),
    prevHead: lower(a.prevHead),
    head: lower(a.head),
    ...positionOf(log),
  };
}

/** Decodes a `TransferReturned` log. */
export function decodeReturned(log: RawLog): ReturnedTransfer {
  const a = args<{ originalTransferId: Hex; fromWallet: Hex; toWallet: Hex; amount: bigint; payerRef: Hex; reasonCode: number }>("TransferReturned", log);
  return {
    originalTransferId: lower(a.originalTransferId),
    fromWallet: lower(a.fromWallet),
    toWallet: lower(a.toWallet),
    amount: BigInt(a.amount),
    payerRef: lower(a.payerRef),
    reasonCode: Number(a.reasonCode),
    ...positionOf(log),
  };
}

/**
 * Pairs each `BatchSettled` with its transfers: the `TransfersSettled` records of the same
 * transaction that were sent by the batch's wallet with a sequence number in its range
 * `[firstSeq, firstSeq + count)` (see {@link isInBatch}), in chain order. A transaction may settle
 * several batches (a contract settlement account calling `settleBatch` twice), and each takes only
 * its own records. Batches come back in chain order.
 */
export function groupBatches(batches: SettledBatch[], transfers: SettledTransfer[]): { batch: SettledBatch; receipts: Receipt[] }[] {
  const transfersByTx = byTransaction(transfers);
  const out: { batch: SettledBatch; receipts: Receipt[] }[] = [];
  for (const [tx, list] of byTransaction(batches)) {
    const members = [...(transfersByTx.get(tx) ?? [])].sort(byChainOrder);
    for (const b of list) out.push({ batch: b, receipts: members.filter((t) => isInBatch(b, t.receipt)).map((t) => t.receipt) });
  }
  return out.sort((a, b) => byChainOrder(a.batch, b.batch));
}

function byTransaction<T extends LogPosition>(list: readonly T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const x of list) {
    const key = x.txHash.toLowerCase();
    const group = map.get(key);
    if (group) group.push(x);
    else map.set(key, [x]);
  }
  return map;
}
