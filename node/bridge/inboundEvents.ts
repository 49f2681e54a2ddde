import {
  type Address,
  type Hex,
  type PublicClient,
  decodeEventLog,
  encodeEventTopics,
  pad,
} from "viem";
import { settlementHubAbi, settlementTokenAbi } from "../chain/abi/generated.ts";
import type { Receipt } from "../receipts/receipt.ts";

/** What the inbound follower reacts to, decoded, in chain order. */
export type InboundEvent =
  | { type: "settled"; receipt: Receipt; txHash: Hex; blockNumber: bigint; logIndex: number }
  | {
      type: "returned";
      originalTransferId: Hex;
      fromWallet: Hex;
      amount: bigint;
      reasonCode: number;
      txHash: Hex;
      blockNumber: bigint;
      logIndex: number;
    }
  | { type: "issued"; amount: bigint; reserveRef: Hex; txHash: Hex; blockNumber: bigint; logIndex: number }
  | { type: "redeemed"; amount: bigint; reserveRef: Hex; txHash: Hex; blockNumber: bigint; logIndex: number };

const topic = (abi: readonly unknown[], eventName: string) =>
  (encodeEventTopics({ abi: abi as never, eventName } as never) as Hex[])[0];

const TOPICS = {
  transferSettled: topic(settlementHubAbi, "TransferSettled"),
  transferReturned: topic(settlementHubAbi, "TransferReturned"),
  batchSettled: topic(settlementHubAbi, "BatchSettled"),
  issued: topic(settlementTokenAbi, "Issued"),
  redeemed: topic(settlementTokenAbi, "Redeemed"),
};

async function getLogs(client: PublicClient, address: Address, topics: (Hex | Hex[] | null)[], from: bigint, to: bigint) {
  return (await client.request({
    method: "eth_getLogs",
    params: [{ address, topics, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` }],
  } as never)) as RawLog[];
}

type RawLog = { data: Hex; topics: readonly Hex[]; transactionHash: Hex | null; blockNumber: unknown; logIndex: unknown };

function position(log: RawLog) {
  return { txHash: log.transactionHash as Hex, blockNumber: BigInt(log.blockNumber as string | bigint), logIndex: Number(log.logIndex) };
}

/** Decodes a `TransferSettled` log into its receipt. */
export function decodeTransferSettled(log: Pick<RawLog, "data" | "topics">): Receipt {
  const { args } = decodeEventLog({ abi: settlementHubAbi, data: log.data, topics: log.topics as never, eventName: "TransferSettled" } as never) as unknown as {
    args: Receipt;
  };
  return {
    transferId: args.transferId,
    fromWallet: args.fromWallet,
    toWallet: args.toWallet,
    seq: BigInt(args.seq),
    amount: BigInt(args.amount),
    payerRef: args.payerRef,
    payeeRef: args.payeeRef,
    memoHash: args.memoHash,
  };
}

/**
 * Everything in blocks `[from, to]` that concerns wallet `walletId` (settlement account `account`):
 * transfers to it, returns of its own payments, and reserve mints and burns. Filtered by indexed
 * topics on the node, so a wallet reads only its own events however busy the network is.
 */
export async function fetchInboundEvents(
  client: PublicClient,
  contracts: { hub: Address; token: Address },
  walletId: Hex,
  account: Address,
  from: bigint,
  to: bigint,
): Promise<InboundEvent[]> {
  const accountTopic = pad(account, { size: 32 });
  // TransferSettled names the payee in topic 3; TransferReturned names the original payer (the
  // wallet the money goes back to) in topic 2, so the two need separate filters.
  const [settledLogs, returnedLogs, tokenLogs] = await Promise.all([
    getLogs(client, contracts.hub, [TOPICS.transferSettled, null, null, walletId], from, to),
    getLogs(client, contracts.hub, [TOPICS.transferReturned, null, walletId], from, to),
    getLogs(client, contracts.token, [[TOPICS.issued, TOPICS.redeemed], accountTopic], from, to),
  ]);
  const events: InboundEvent[] = [];
  for (const log of [...settledLogs, ...returnedLogs]) {
    if (log.topics[0] === TOPICS.transferSettled) {
      events.push({ type: "settled", receipt: decodeTransferSettled(log), ...position(log) });
    } else {
      const { args } = decodeEventLog({ abi: settlementHubAbi, data: log.data, topics: log.topics as never, eventName: "TransferReturned" } as never) as unknown as {
        args: { originalTransferId: Hex; fromWallet: Hex; amount: bigint; reasonCode: number };
      };
      events.push({
        type: "returned",
        originalTransferId: args.originalTransferId,
        fromWallet: args.fromWallet,
        amount: BigInt(args.amount),
        reasonCode: Number(args.reasonCode),
        ...position(log),
      });
    }
  }
  for (const log of tokenLogs) {
    const eventName = log.topics[0] === TOPICS.issued ? "Issued" : "Redeemed";
    const { args } = decodeEventLog({ abi: settlementTokenAbi, data: log.data, topics: log.topics as never, eventName } as never) as unknown as {
      args: { amount: bigint; reserveRef: Hex };
    };
    events.push({ type: eventName === "Issued" ? "issued" : "redeemed", amount: BigInt(args.amount), reserveRef: args.reserveRef, ...position(log) });
  }
  return events.sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));
}

/** Every receipt of the batch settled in transaction `txHash`, in order, and the batch number. */
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
    if (log.topics[0] === TOPICS.transferSettled) receipts.push(decodeTransferSettled(log));
    if (log.topics[0] === TOPICS.batchSettled) batchNo = BigInt(log.topics[2]!);
  }
  if (batchNo === undefined) throw new Error(`transaction ${txHash} settled no batch`);
  return { batchNo, receipts };
}
