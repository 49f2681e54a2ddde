import { type Hex, decodeEventLog, encodeEventTopics, hexToBigInt, parseAbiItem, size, concatHex, numberToHex } from "viem";
import { transferIdOf } from "./ids.ts";
import type { Receipt } from "./receipt.ts";

/**
 * The packed transfer format of `SettlementHub.settleBatch` and of its `TransfersSettled` event.
 *
 * A batch is a list of payee groups — `(payee walletId, count)` — and one `bytes` of packed
 * transfer records, the first `groups[0].count` records going to `groups[0].payee`, and so on.
 * Record `i` of the batch gets sequence number `firstSeq + i`. Each record is 112 bytes, big-endian:
 *
 * | bytes   | field                                        |
 * |---------|----------------------------------------------|
 * | 0–15    | amount, uint128, token minor units (fen)      |
 * | 16–47   | payerRef, bytes32                            |
 * | 48–79   | payeeRef, bytes32                            |
 * | 80–111  | memoHash, bytes32 (zero when there is none)  |
 *
 * The hub emits one `TransfersSettled(fromWallet, toWallet, firstSeq, transfers)` per payee group,
 * its `transfers` the group's records exactly as they came in calldata and `firstSeq` the sequence
 * number of the group's first record. The receipt of each record (and so its Merkle leaf) is the
 * same as before packing: see {@link Receipt}.
 */
export const TRANSFER_RECORD_BYTES = 112;

/** One packed transfer record (the payee wallet is its group's). */
export interface TransferRecord {
  amount: bigint;
  payerRef: Hex;
  payeeRef: Hex;
  memoHash: Hex;
}

/** A payee group as `settleBatch` takes it. */
export interface PayeeGroup {
  payee: Hex;
  count: number;
}

/** The `TransfersSettled` event, for filters and decoding without the generated ABI. */
export const transfersSettledEvent = parseAbiItem(
  "event TransfersSettled(bytes32 indexed fromWallet, bytes32 indexed toWallet, uint64 firstSeq, bytes transfers)",
);

/** topic0 of `TransfersSettled`. */
export const TRANSFERS_SETTLED_TOPIC: Hex = encodeEventTopics({ abi: [transfersSettledEvent], eventName: "TransfersSettled" })[0];

const MAX_AMOUNT = (1n << 128n) - 1n;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

/** Packs records into the `transfers` bytes of `settleBatch`. */
export function packTransfers(records: readonly TransferRecord[]): Hex {
  return concatHex(
    records.flatMap((r) => {
      if (r.amount < 0n || r.amount > MAX_AMOUNT) throw new RangeError(`amount ${r.amount} is outside uint128`);
      for (const word of [r.payerRef, r.payeeRef, r.memoHash]) {
        if (!BYTES32.test(word)) throw new RangeError(`${word} is not a bytes32 hex string`);
      }
      return [numberToHex(r.amount, { size: 16 }), r.payerRef, r.payeeRef, r.memoHash];
    }),
  );
}

/** Splits packed `transfers` bytes back into records. */
export function unpackTransfers(packed: Hex): TransferRecord[] {
  const length = size(packed);
  if (length % TRANSFER_RECORD_BYTES !== 0) {
    throw new RangeError(`packed transfers are ${length} bytes, not a multiple of ${TRANSFER_RECORD_BYTES}`);
  }
  const body = packed.slice(2);
  const records: TransferRecord[] = [];
  for (let at = 0; at < body.length; at += TRANSFER_RECORD_BYTES * 2) {
    records.push({
      amount: hexToBigInt(`0x${body.slice(at, at + 32)}`),
      payerRef: `0x${body.slice(at + 32, at + 96)}`,
      payeeRef: `0x${body.slice(at + 96, at + 160)}`,
      memoHash: `0x${body.slice(at + 160, at + 224)}`,
    });
  }
  return records;
}

/**
 * Orders transfers for `settleBatch`: grouped by payee wallet (groups in order of each payee's
 * first appearance, transfers keeping their order within a group). Returns the reordered items —
 * item `i` gets sequence `firstSeq + i` — the groups and the packed bytes.
 */
export function groupTransfers<T extends TransferRecord & { toWallet: Hex }>(
  items: readonly T[],
): { ordered: T[]; groups: PayeeGroup[]; packed: Hex } {
  const byPayee = new Map<string, T[]>();
  const payees: Hex[] = [];
  for (const item of items) {
    const key = item.toWallet.toLowerCase();
    let group = byPayee.get(key);
    if (!group) {
      group = [];
      byPayee.set(key, group);
      payees.push(item.toWallet);
    }
    group.push(item);
  }
  const ordered = payees.flatMap((payee) => byPayee.get(payee.toLowerCase())!);
  const groups = payees.map((payee) => ({ payee, count: byPayee.get(payee.toLowerCase())!.length }));
  return { ordered, groups, packed: packTransfers(ordered) };
}

/** The receipts of one `TransfersSettled` log, in sequence order. */
export function receiptsOfTransfersSettled(log: { data: Hex; topics: readonly Hex[] }): Receipt[] {
  const { args } = decodeEventLog({ abi: [transfersSettledEvent], data: log.data, topics: log.topics as [Hex, ...Hex[]] });
  return unpackTransfers(args.transfers).map((record, i) => {
    const seq = args.firstSeq + BigInt(i);
    return { transferId: transferIdOf(args.fromWallet, seq), fromWallet: args.fromWallet, toWallet: args.toWallet, seq, ...record };
  });
}

